import {
  BundleQuery,
  DeviceIdParam,
  OneTimePreKeyCount,
  OwnDevice,
  OwnDeviceList,
  PreKeyBundleList,
  RegisterDeviceRequest,
  SignedPreKey,
  UploadOneTimePreKeysRequest,
  UserDeviceList,
} from '@chatalot/protocol';
import { z } from 'zod';
import { addRoute, type RouteContext } from '../http/route.js';
import type { KeysDeps } from './deps.js';
import { KeyService } from './service.js';

const DeviceParams = z.object({ deviceId: DeviceIdParam });
const UserParams = z.object({ userId: z.string().min(1).max(64) });

/**
 * The key service (`/api/keys`, PRODUCT.md §5, docs/encryption.md "Key service"). Routes on
 * `/api/keys/devices…` act on the signed-in user's own devices only; routes on
 * `/api/keys/users/:userId…` read another user's public keys and need the right to contact
 * them (see KeyAccess).
 */
export function registerKeyRoutes(ctx: RouteContext, deps: KeysDeps): void {
  const keys = new KeyService(deps);
  const tags = ['keys'];

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/keys/devices',
      summary:
        'Register a device: identity key, signed prekey (signature verified), up to 200 one-time prekeys. ' +
        'The server assigns the device id.',
      tags,
      auth: true,
      body: RegisterDeviceRequest,
      response: OwnDevice,
      status: 201,
      errors: [400, 409],
    },
    async ({ actor, body }) => keys.register(actor, body),
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/keys/devices',
      summary: 'Your identity key and devices, with their unclaimed one-time prekeys',
      tags,
      auth: true,
      response: OwnDeviceList,
    },
    async ({ actor }) => keys.ownDevices(actor),
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/keys/devices/:deviceId',
      summary: 'Remove one of your devices and its prekeys',
      tags,
      auth: true,
      params: DeviceParams,
      errors: [400, 404],
    },
    async ({ actor, params }) => keys.removeDevice(actor, params.deviceId),
  );

  addRoute(
    ctx,
    {
      method: 'PUT',
      url: '/api/keys/devices/:deviceId/signed-prekey',
      summary: 'Replace a device’s signed prekey (weekly rotation); the signature is verified',
      tags,
      auth: true,
      params: DeviceParams,
      body: SignedPreKey,
      errors: [400, 404],
    },
    async ({ actor, params, body }) => keys.replaceSignedPreKey(actor, params.deviceId, body),
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/keys/devices/:deviceId/one-time-prekeys',
      summary:
        'Upload up to 200 one-time prekeys (all or nothing; an id the device already holds is a 409, ' +
        'at most 1,000 per device)',
      tags,
      auth: true,
      params: DeviceParams,
      body: UploadOneTimePreKeysRequest,
      response: OneTimePreKeyCount,
      status: 201,
      errors: [400, 404, 409],
    },
    async ({ actor, params, body }) => ({
      count: await keys.uploadOneTimePreKeys(actor, params.deviceId, body.one_time_prekeys),
    }),
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/keys/devices/:deviceId/one-time-prekeys/count',
      summary: 'How many one-time prekeys of your device are left unclaimed',
      tags,
      auth: true,
      params: DeviceParams,
      response: OneTimePreKeyCount,
      errors: [400, 404],
    },
    async ({ actor, params }) => ({ count: await keys.oneTimePreKeyCount(actor, params.deviceId) }),
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/keys/users/:userId/devices',
      summary: 'A user’s identity key and device ids (yourself, or someone you may contact)',
      tags,
      auth: true,
      params: UserParams,
      response: UserDeviceList,
      errors: [404],
    },
    async ({ actor, params }) => keys.userDevices(actor, params.userId),
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/keys/users/:userId/bundles',
      summary:
        'Prekey bundles of a user’s devices (yourself, or someone you may contact). Each one-time prekey is ' +
        'handed out once; limited per requester and user',
      tags,
      auth: true,
      params: UserParams,
      query: BundleQuery,
      response: PreKeyBundleList,
      errors: [400, 404, 429],
    },
    async ({ actor, params, query }) => keys.bundles(actor, params.userId, query.device_ids),
  );
}

import {
  CreateProvisioningSession,
  DeviceIdParam,
  DeviceLabel,
  DeviceLabelBody,
  DeviceLabelList,
  ProvisioningEnvelope,
  ProvisioningEnvelopeBody,
  ProvisioningSession,
  ProvisioningSessionCreated,
  ProvisioningSessionParams,
} from '@chatalot/protocol';
import { z } from 'zod';
import { addRoute, type RouteContext } from '../http/route.js';
import { DeviceLabels } from './device-labels.js';
import { type ProvisioningDeps, ProvisioningService } from './service.js';

const DeviceParams = z.object({ deviceId: DeviceIdParam });

/**
 * Linking a new device (`/api/provisioning/sessions`, see ProvisioningService), and the labels
 * of the user's devices (`/api/provisioning/devices`, see DeviceLabels).
 */
export function registerProvisioningRoutes(ctx: RouteContext, deps: ProvisioningDeps): void {
  const service = new ProvisioningService(deps);
  const labels = new DeviceLabels(deps.db, deps.now);
  const tags = ['keys'];

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/provisioning/devices',
      summary: 'How each of your devices names itself, and when it last started its encryption session',
      tags,
      auth: true,
      response: DeviceLabelList,
    },
    async ({ actor }) => labels.list(actor),
  );

  addRoute(
    ctx,
    {
      method: 'PUT',
      url: '/api/provisioning/devices/:deviceId',
      summary: 'Report the name of one of your devices; records that it was seen now',
      tags,
      auth: true,
      params: DeviceParams,
      body: DeviceLabelBody,
      response: DeviceLabel,
      errors: [400, 404],
    },
    async ({ actor, params, body }) => labels.report(actor, params.deviceId, body.name),
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/provisioning/sessions',
      summary:
        'Open a device-linking session from a new device (its ephemeral X25519 key and name); it expires after 10 minutes',
      tags,
      auth: true,
      body: CreateProvisioningSession,
      response: ProvisioningSessionCreated,
      status: 201,
      errors: [400, 409, 429],
    },
    async ({ actor, body }) => service.create(actor, body),
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/provisioning/sessions/:sessionId',
      summary: 'One of your open linking sessions: the new device’s name and ephemeral key',
      tags,
      auth: true,
      params: ProvisioningSessionParams,
      response: ProvisioningSession,
      errors: [400, 404, 429],
    },
    async ({ actor, params }) => service.get(actor, params.sessionId),
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/provisioning/sessions/:sessionId/envelope',
      summary:
        'Approve a new device from another of your signed-in devices: post the encrypted identity envelope (once)',
      tags,
      auth: true,
      params: ProvisioningSessionParams,
      body: ProvisioningEnvelopeBody,
      status: 204,
      errors: [400, 403, 404, 409, 429],
    },
    async ({ actor, params, body }) => {
      await service.approve(actor, params.sessionId, body.envelope);
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/provisioning/sessions/:sessionId/envelope',
      summary: 'The new device’s poll for its envelope (null until approved); only the session that opened it',
      tags,
      auth: true,
      params: ProvisioningSessionParams,
      response: ProvisioningEnvelope,
      errors: [400, 404, 429],
    },
    async ({ actor, params }) => service.envelope(actor, params.sessionId),
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/provisioning/sessions/:sessionId',
      summary: 'End one of your linking sessions (linked, or cancelled)',
      tags,
      auth: true,
      params: ProvisioningSessionParams,
      status: 204,
      errors: [400, 404, 429],
    },
    async ({ actor, params }) => {
      await service.remove(actor, params.sessionId);
    },
  );
}

import {
  KEY_LIMITS,
  type OneTimePreKey,
  type OwnDevice,
  type PreKeyBundleList,
  type RegisterDeviceRequest,
  type SignedPreKey,
  type UserDeviceList,
} from '@chatalot/protocol';
import type { Actor } from '../auth/authenticate.js';
import type { DevicesTable } from '../db/schema.js';
import { AppError, conflict, notFound, rateLimited } from '../errors.js';
import { topics } from '../spaces/events.js';
import { KeyAccess } from './access.js';
import { BUNDLE_FETCH_LIMIT, type KeysDeps } from './deps.js';
import { KeysRepo } from './repo.js';
import { requireSignedPreKey } from './signature.js';

const noSuchDevice = () => notFound('No such device');

/**
 * The key service (PRODUCT.md §5): the server stores public keys only and hands each
 * one-time prekey out at most once. Every signed prekey is verified against the user's
 * identity key before it is stored, so a bundle the server hands out verifies in the client.
 * Events are published after the change committed.
 */
export class KeyService {
  private readonly repo: KeysRepo;
  private readonly access: KeyAccess;

  constructor(private readonly deps: KeysDeps) {
    this.repo = new KeysRepo(deps.db, deps.dialect);
    this.access = new KeyAccess(deps.db);
  }

  /**
   * Registers a new device of the actor with its signed prekey and first one-time prekeys,
   * and returns it with its server-assigned id. The first device sets the user's identity
   * key; later ones must present the same key (`identity_key_mismatch`) unless
   * `reset_identity`, which replaces it and removes every other device (their signed
   * prekeys were signed by the old key).
   */
  async register(actor: Actor, body: RegisterDeviceRequest): Promise<OwnDevice> {
    requireSignedPreKey(body.identity_key, body.signed_prekey);
    const now = this.deps.now();
    const userId = actor.userId;
    const { deviceId, removed, identityChanged } = await this.deps.db.transaction().execute(async (trx) => {
      const allocated = await this.repo.allocateDeviceId(trx, userId, body.identity_key, now);
      let removed: number[] = [];
      const identityChanged = allocated.identityKey !== body.identity_key;
      if (identityChanged) {
        if (!body.reset_identity) {
          throw new AppError(
            'identity_key_mismatch',
            'This account has a different identity key; link this device from an existing one, or reset the identity',
          );
        }
        await this.repo.replaceIdentityKey(trx, userId, body.identity_key, now);
        removed = await this.repo.deleteAllDevices(trx, userId);
      }
      if ((await this.repo.deviceCount(trx, userId)) >= KEY_LIMITS.devicesPerUser) {
        throw new AppError(
          'limit_reached',
          `A user has at most ${KEY_LIMITS.devicesPerUser} devices; remove one first`,
        );
      }
      await this.repo.insertDevice(trx, {
        user_id: userId,
        device_id: allocated.deviceId,
        signed_prekey_id: body.signed_prekey.key_id,
        signed_prekey: body.signed_prekey.public_key,
        signed_prekey_signature: body.signed_prekey.signature,
        signed_prekey_updated_at: now,
        created_at: now,
      });
      await this.repo.insertOneTimePreKeys(trx, userId, allocated.deviceId, body.one_time_prekeys);
      return { deviceId: allocated.deviceId, removed, identityChanged };
    });

    for (const id of removed) await this.announce(userId, { type: 'device.removed', user_id: userId, device_id: id });
    if (identityChanged) {
      await this.announce(userId, { type: 'identity.changed', user_id: userId, identity_key: body.identity_key });
    }
    await this.announce(userId, { type: 'device.added', user_id: userId, device_id: deviceId });
    return {
      device_id: deviceId,
      signed_prekey_id: body.signed_prekey.key_id,
      signed_prekey_updated_at: now,
      one_time_prekeys: body.one_time_prekeys.length,
      created_at: now,
    };
  }

  /** The actor's identity key and devices, with each device's unclaimed one-time prekeys. */
  async ownDevices(actor: Actor): Promise<{ identity_key: string | null; devices: OwnDevice[] }> {
    const [identityKey, devices, counts] = await Promise.all([
      this.repo.identityKey(actor.userId),
      this.repo.devices(actor.userId),
      this.repo.oneTimePreKeyCounts(actor.userId),
    ]);
    return {
      identity_key: identityKey ?? null,
      devices: devices.map((d) => ({
        device_id: d.device_id,
        signed_prekey_id: d.signed_prekey_id,
        signed_prekey_updated_at: d.signed_prekey_updated_at,
        one_time_prekeys: counts.get(d.device_id) ?? 0,
        created_at: d.created_at,
      })),
    };
  }

  /** Removes one of the actor's devices and its one-time prekeys. */
  async removeDevice(actor: Actor, deviceId: number): Promise<void> {
    if (!(await this.repo.deleteDevice(actor.userId, deviceId))) throw noSuchDevice();
    await this.announce(actor.userId, { type: 'device.removed', user_id: actor.userId, device_id: deviceId });
  }

  /** Replaces a device's signed prekey (weekly rotation), verified against the identity key. */
  async replaceSignedPreKey(actor: Actor, deviceId: number, spk: SignedPreKey): Promise<void> {
    const identityKey = await this.repo.identityKey(actor.userId);
    if (identityKey === undefined) throw noSuchDevice();
    requireSignedPreKey(identityKey, spk);
    if (!(await this.repo.replaceSignedPreKey(actor.userId, deviceId, spk, this.deps.now()))) throw noSuchDevice();
  }

  /**
   * Adds one-time prekeys to one of the actor's devices, all or nothing: an id the device
   * already holds unclaimed is a `conflict`, more than the per-device cap is `limit_reached`.
   * Returns the device's unclaimed count afterwards.
   */
  async uploadOneTimePreKeys(actor: Actor, deviceId: number, keys: readonly OneTimePreKey[]): Promise<number> {
    const userId = actor.userId;
    return this.deps.db.transaction().execute(async (trx) => {
      if (!(await this.repo.lockDevice(trx, userId, deviceId))) throw noSuchDevice();
      const duplicates = await this.repo.existingKeyIds(
        trx,
        userId,
        deviceId,
        keys.map((k) => k.key_id),
      );
      if (duplicates.length > 0) {
        throw conflict(`The device already holds one-time prekeys with ids ${duplicates.slice(0, 10).join(', ')}`);
      }
      const count = await this.repo.oneTimePreKeyCount(userId, deviceId, trx);
      if (count + keys.length > KEY_LIMITS.oneTimePreKeysPerDevice) {
        throw new AppError(
          'limit_reached',
          `A device holds at most ${KEY_LIMITS.oneTimePreKeysPerDevice} one-time prekeys (${count} stored)`,
        );
      }
      await this.repo.insertOneTimePreKeys(trx, userId, deviceId, keys);
      return count + keys.length;
    });
  }

  async oneTimePreKeyCount(actor: Actor, deviceId: number): Promise<number> {
    const [device] = await this.repo.devices(actor.userId, [deviceId]);
    if (!device) throw noSuchDevice();
    return this.repo.oneTimePreKeyCount(actor.userId, deviceId);
  }

  /** A user's identity key and device ids, for anyone who may contact them. Claims nothing. */
  async userDevices(actor: Actor, userId: string): Promise<UserDeviceList> {
    await this.access.requireContact(actor, userId);
    const [identityKey, devices] = await Promise.all([this.repo.identityKey(userId), this.repo.devices(userId)]);
    return {
      user_id: userId,
      identity_key: identityKey ?? null,
      devices: devices.map((d) => ({ device_id: d.device_id, created_at: d.created_at })),
    };
  }

  /**
   * One bundle per device of the user (or per listed device that exists), each with at most
   * one one-time prekey, claimed for this caller alone. Limited per requester and target.
   */
  async bundles(actor: Actor, userId: string, deviceIds?: readonly number[]): Promise<PreKeyBundleList> {
    await this.access.requireContact(actor, userId);
    await this.takeFetchToken(actor.userId, userId);
    const [identityKey, devices] = await Promise.all([
      this.repo.identityKey(userId),
      this.repo.devices(userId, deviceIds),
    ]);
    const bundles = await Promise.all(devices.map((device) => this.bundle(userId, device)));
    return { user_id: userId, identity_key: identityKey ?? null, bundles };
  }

  private async bundle(userId: string, device: DevicesTable) {
    const claimed = await this.repo.claimOneTimePreKey(userId, device.device_id);
    if (claimed) {
      const remaining = await this.repo.oneTimePreKeyCount(userId, device.device_id);
      // Only a fetch that took a key reports, so a drained device is not told again and again.
      if (remaining < KEY_LIMITS.lowOneTimePreKeys) {
        await this.deps.events.publish(
          { type: 'keys.low', device_id: device.device_id, remaining },
          topics.user(userId),
        );
      }
    }
    return {
      device_id: device.device_id,
      signed_prekey: {
        key_id: device.signed_prekey_id,
        public_key: device.signed_prekey,
        signature: device.signed_prekey_signature,
      },
      one_time_prekey: claimed ? { key_id: claimed.key_id, public_key: claimed.public_key } : null,
    };
  }

  private async takeFetchToken(requesterId: string, targetId: string): Promise<void> {
    const spec = this.deps.bundleFetchLimit ?? BUNDLE_FETCH_LIMIT;
    const key = `keys:bundles:${requesterId}:${targetId}`;
    const result = await this.deps.counterStore.takeToken(key, spec, this.deps.now());
    if (!result.allowed) throw rateLimited(result.retryAfterSecs);
  }

  /**
   * Device and identity changes go to the user's own topic (their other devices and
   * sessions) and to every topic through which the gateway reaches their contacts: each
   * community they are in (everyone allowed to fetch their keys shares one) and each DM or
   * group DM they are in. Contacts then fetch the new device's bundle, drop sessions with a
   * removed device (and rotate their sender keys), or show the changed-identity warning.
   */
  private async announce(userId: string, event: { type: string; [field: string]: unknown }): Promise<void> {
    const { communities, channels } = await this.repo.contactTopics(userId);
    await this.deps.events.publish(
      event,
      topics.user(userId),
      ...communities.map((id) => topics.community(id)),
      ...channels.map((id) => topics.channel(id)),
    );
  }
}

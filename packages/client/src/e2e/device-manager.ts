/**
 * This device's keys and its registration with the key service (PRODUCT.md §5 "Devices" and
 * "Prekeys"):
 *
 * - First device of a user: generates the identity key pair, registers with
 *   `POST /api/keys/devices` together with a signed prekey and 100 one-time prekeys.
 * - A later device of a user who already has an identity key needs that key: restore it from
 *   an encrypted key backup ({@link DeviceManager.restoreKeyBackup}) before `start`, or start
 *   with `resetIdentity` (a new identity; contacts see a key-change warning and the user's
 *   other devices are removed), or receive it by linking (provisioning.ts) and
 *   {@link DeviceManager.adoptIdentity}; otherwise `start` fails with `provisioning_required`.
 * - One-time prekeys are topped back up to 100 when fewer than 25 are left (at start and on
 *   `keys.low`); the signed prekey rotates weekly, the replaced one is kept for 30 days for
 *   messages in flight.
 *
 * Private keys are written to the store before the public halves are uploaded, so the server
 * never hands out a key this device cannot use.
 */
import {
  createKeyBackup,
  defaultContext,
  generateIdentityKeyPair,
  generateOneTimePreKeys,
  generateSignedPreKey,
  restoreKeyBackup,
  type CryptoContext,
  type IdentityKeyPair,
  type ScryptParams,
} from '@chatalot/crypto';
import { KEY_LIMITS } from '@chatalot/protocol';
import { ApiError } from '../api-error.js';
import type { KeyServiceApi } from './api.js';
import { equalBytes, fromBase64Url, toBase64Url } from './bytes.js';
import { E2EError } from './errors.js';
import type { DeviceRecord, E2EKeyStore } from './key-store.js';
import { KeyedLock } from './lock.js';
import { oneTimePreKeyToWire, signedPreKeyToWire } from './wire.js';

/** This device, once registered. */
export interface DeviceState {
  userId: string;
  deviceId: number;
  identity: IdentityKeyPair;
}

export interface DeviceManagerOptions {
  keys: KeyServiceApi;
  store: E2EKeyStore;
  /** The signed-in user. */
  userId: string;
  ctx?: CryptoContext;
  /** One-time prekeys kept on the server (default 100). */
  oneTimePreKeyTarget?: number;
  /** Replenish when fewer than this many are left (default 25). */
  oneTimePreKeyLow?: number;
  /** Signed prekey rotation period (default one week). */
  signedPreKeyRotationMs?: number;
  /** How long a replaced signed prekey is kept for prekey messages in flight (default 30 days). */
  signedPreKeyGraceMs?: number;
}

export interface StartOptions {
  /**
   * When the account already has another identity key: replace it (new identity, every other
   * device of the user removed, contacts warned). Without it, `start` fails with
   * `provisioning_required`.
   */
  resetIdentity?: boolean;
}

const DAY = 24 * 60 * 60 * 1000;

export class DeviceManager {
  private readonly ctx: CryptoContext;
  private readonly lock = new KeyedLock();
  private current: DeviceState | undefined;

  constructor(private readonly o: DeviceManagerOptions) {
    this.ctx = o.ctx ?? defaultContext();
  }

  private get target(): number {
    return this.o.oneTimePreKeyTarget ?? KEY_LIMITS.oneTimePreKeysTarget;
  }
  private get low(): number {
    return this.o.oneTimePreKeyLow ?? KEY_LIMITS.lowOneTimePreKeys;
  }

  /** The registered device (after `start`). */
  get state(): DeviceState | undefined {
    return this.current;
  }

  /**
   * Loads or registers this device, then tops up one-time prekeys and rotates the signed
   * prekey when due. Fails with `provisioning_required` when the account has an identity key
   * this device does not hold, and `not_registered` when the server no longer knows this
   * device (it was removed: clear the store and start again).
   */
  async start(options: StartOptions = {}): Promise<DeviceState> {
    const state = await this.lock.run('device', () => this.register(options));
    await this.maintain();
    return state;
  }

  /** Replenishes one-time prekeys and rotates the signed prekey if due. */
  async maintain(): Promise<void> {
    await this.replenishOneTimePreKeys();
    await this.rotateSignedPreKeyIfDue();
  }

  /** Handles key-service events for this user (`keys.low` for this device). */
  async handleEvent(event: { type: string; [k: string]: unknown }): Promise<void> {
    if (event.type === 'keys.low' && this.current && event.device_id === this.current.deviceId) {
      await this.replenishOneTimePreKeys();
    }
  }

  private async register(options: StartOptions): Promise<DeviceState> {
    const { store, keys, userId } = this.o;
    const stored = await store.loadIdentity();
    if (stored && stored.userId !== userId) {
      throw new E2EError('store_corrupt', 'this key store belongs to another user');
    }
    let device = await store.loadDevice();
    const own = await keys.ownDevices();
    const serverKey = own.identity_key === null ? null : fromBase64Url(own.identity_key, 'identity key');

    if (stored && device?.deviceId !== undefined) {
      const known = own.devices.some((d) => d.device_id === device!.deviceId);
      if (!known || !serverKey || !equalBytes(serverKey, stored.identity.publicKey)) {
        throw new E2EError('not_registered', `device ${device.deviceId} is no longer registered`);
      }
      this.current = { userId, deviceId: device.deviceId, identity: stored.identity };
      return this.current;
    }

    let identity: IdentityKeyPair;
    let reset = false;
    if (serverKey === null) {
      identity = stored?.identity ?? generateIdentityKeyPair(this.ctx);
    } else if (stored && equalBytes(serverKey, stored.identity.publicKey)) {
      identity = stored.identity;
    } else if (options.resetIdentity) {
      identity = generateIdentityKeyPair(this.ctx);
      reset = true;
    } else {
      throw new E2EError(
        'provisioning_required',
        'this account already has an identity key: link this device or restore a key backup',
      );
    }
    await store.storeIdentity({ userId, identity });

    // Keys first (private halves stored), then the upload.
    device ??= { userId, nextOneTimePreKeyId: 1, signedPreKeys: [] };
    const spkId = nextSignedPreKeyId(device);
    const spk = generateSignedPreKey(this.ctx, identity, spkId);
    await store.storeSignedPreKey(spk);
    const firstOpk = device.nextOneTimePreKeyId;
    const count = Math.min(this.target, KEY_LIMITS.oneTimePreKeysPerUpload);
    device = {
      ...device,
      nextOneTimePreKeyId: (firstOpk + count) >>> 0 || 1,
      signedPreKeys: [...device.signedPreKeys, { keyId: spkId, createdAt: spk.createdAt }],
    };
    await store.storeDevice(device);
    const opks = generateOneTimePreKeys(this.ctx, firstOpk, count);
    for (const k of opks) await store.storeOneTimePreKey(k);

    const registered = await keys.registerDevice({
      identity_key: toBase64Url(identity.publicKey),
      signed_prekey: signedPreKeyToWire(spk),
      one_time_prekeys: opks.map(oneTimePreKeyToWire),
      reset_identity: reset,
    });
    await store.storeDevice({ ...device, deviceId: registered.device_id });
    this.current = { userId, deviceId: registered.device_id, identity };
    return this.current;
  }

  private requireDevice(): DeviceState {
    if (!this.current) throw new E2EError('not_registered', 'call start() first');
    return this.current;
  }

  /** Tops the server's one-time prekeys back up to the target when fewer than the low mark are left. */
  replenishOneTimePreKeys(): Promise<number> {
    return this.lock.run('device', async () => {
      const { deviceId } = this.requireDevice();
      const remaining = await this.o.keys.oneTimePreKeyCount(deviceId);
      if (remaining >= this.low) return 0;
      let need = this.target - remaining;
      let uploaded = 0;
      while (need > 0) {
        const n = Math.min(need, KEY_LIMITS.oneTimePreKeysPerUpload);
        const device = (await this.o.store.loadDevice())!;
        const first = device.nextOneTimePreKeyId;
        // The counter moves first: an id is never generated twice, even after a crash.
        await this.o.store.storeDevice({ ...device, nextOneTimePreKeyId: (first + n) >>> 0 || 1 });
        const keys = generateOneTimePreKeys(this.ctx, first, n);
        for (const k of keys) await this.o.store.storeOneTimePreKey(k);
        try {
          await this.o.keys.uploadOneTimePreKeys(deviceId, keys.map(oneTimePreKeyToWire));
        } catch (err) {
          // The server keeps at most 1,000 unclaimed keys: it has enough then.
          if (err instanceof ApiError && err.code === 'limit_reached') break;
          throw err;
        }
        uploaded += n;
        need -= n;
      }
      return uploaded;
    });
  }

  /** Replaces the signed prekey when it is older than the rotation period (or `force`). */
  rotateSignedPreKeyIfDue(force = false): Promise<boolean> {
    return this.lock.run('device', async () => {
      const { deviceId, identity } = this.requireDevice();
      const now = this.ctx.now();
      let device = (await this.o.store.loadDevice())!;
      const last = device.signedPreKeys.at(-1);
      let rotated = false;
      const due = !last || now - last.createdAt >= (this.o.signedPreKeyRotationMs ?? KEY_LIMITS.signedPreKeyRotationMs);
      if (force || due || last?.published === false) {
        let spk = last?.published === false ? await this.o.store.loadSignedPreKey(last.keyId) : undefined;
        if (!spk) {
          spk = generateSignedPreKey(this.ctx, identity, nextSignedPreKeyId(device));
          await this.o.store.storeSignedPreKey(spk);
          device = {
            ...device,
            signedPreKeys: [
              ...device.signedPreKeys.map((s) => (s.replacedAt === undefined ? { ...s, replacedAt: now } : s)),
              { keyId: spk.keyId, createdAt: spk.createdAt, published: false },
            ],
          };
          // Recorded before the upload, so a crash never reuses this key id for another key.
          await this.o.store.storeDevice(device);
        }
        await this.o.keys.replaceSignedPreKey(deviceId, signedPreKeyToWire(spk));
        device = {
          ...device,
          signedPreKeys: device.signedPreKeys.map((s) => (s.keyId === spk.keyId ? { ...s, published: true } : s)),
        };
        await this.o.store.storeDevice(device);
        rotated = true;
      }
      // Forget signed prekeys replaced longer ago than the grace period.
      const grace = this.o.signedPreKeyGraceMs ?? 30 * DAY;
      const expired = device.signedPreKeys.filter((s) => s.replacedAt !== undefined && now - s.replacedAt > grace);
      if (expired.length > 0) {
        for (const s of expired) await this.o.store.removeSignedPreKey(s.keyId);
        await this.o.store.storeDevice({
          ...device,
          signedPreKeys: device.signedPreKeys.filter((s) => !expired.includes(s)),
        });
      }
      return rotated;
    });
  }

  /**
   * An encrypted backup of the identity key under `passphrase` (scrypt + XChaCha20-Poly1305).
   * Store it wherever the app keeps backups; restoring it on a new device lets that device
   * register without linking.
   */
  async createKeyBackup(passphrase: string, params?: ScryptParams): Promise<Uint8Array> {
    const stored = await this.o.store.loadIdentity();
    if (!stored) throw new E2EError('not_registered', 'no identity key on this device');
    return createKeyBackup(
      this.ctx,
      passphrase,
      { userId: stored.userId, identity: stored.identity, extra: new Uint8Array(0) },
      params,
    );
  }

  /**
   * Restores the identity key from a backup into this (not yet registered) device's store;
   * call `start()` afterwards to register the device. Throws CryptoError `bad_passphrase`.
   */
  async restoreKeyBackup(passphrase: string, backup: Uint8Array): Promise<void> {
    const payload = await restoreKeyBackup(this.ctx, passphrase, backup);
    if (payload.userId !== this.o.userId) throw new E2EError('invalid_format', 'the backup belongs to another user');
    await this.adoptIdentity(payload.identity);
  }

  /**
   * Keeps the user's identity key, received from a key backup or from another device through
   * linking, in this (not yet registered) device's store; `start()` then registers the device.
   */
  async adoptIdentity(identity: IdentityKeyPair): Promise<void> {
    const stored = await this.o.store.loadIdentity();
    const device = await this.o.store.loadDevice();
    if (stored && device?.deviceId !== undefined) {
      if (equalBytes(stored.identity.publicKey, identity.publicKey)) return;
      throw new E2EError('store_corrupt', 'this device is already registered with another identity key');
    }
    await this.o.store.storeIdentity({ userId: this.o.userId, identity });
  }
}

function nextSignedPreKeyId(device: DeviceRecord): number {
  let max = 0;
  for (const s of device.signedPreKeys) max = Math.max(max, s.keyId);
  return (max + 1) >>> 0;
}

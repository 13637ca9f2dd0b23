/**
 * Other users' (and our own) device lists from `GET /api/keys/users/:userId/devices`, cached
 * until a `device.added` / `device.removed` / `identity.changed` event for the user, or for
 * `ttlMs` (default 5 minutes) as a backstop against a missed event.
 */
import type { KeyServiceApi } from './api.js';
import { fromBase64Url } from './bytes.js';

export interface UserDevices {
  userId: string;
  /** Null while the user has never registered a device. */
  identityKey: Uint8Array | null;
  deviceIds: number[];
}

export class DeviceDirectory {
  private readonly cache = new Map<string, { at: number; value: Promise<UserDevices> }>();

  constructor(
    private readonly keys: KeyServiceApi,
    private readonly now: () => number,
    private readonly ttlMs = 5 * 60 * 1000,
  ) {}

  get(userId: string): Promise<UserDevices> {
    const hit = this.cache.get(userId);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = this.keys.userDevices(userId).then((res) => ({
      userId,
      identityKey: res.identity_key === null ? null : fromBase64Url(res.identity_key, 'identity key'),
      deviceIds: res.devices.map((d) => d.device_id).sort((a, b) => a - b),
    }));
    const entry = { at: this.now(), value };
    this.cache.set(userId, entry);
    // A failed fetch is not cached.
    value.catch(() => {
      if (this.cache.get(userId) === entry) this.cache.delete(userId);
    });
    return value;
  }

  invalidate(userId?: string): void {
    if (userId === undefined) this.cache.clear();
    else this.cache.delete(userId);
  }
}

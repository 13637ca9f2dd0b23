/**
 * The REST calls the E2E layer makes: the key service (`/api/keys/…`) and the device inbox
 * (`/api/device-messages`). Both take anything with AuthClient's `authed` (token refresh
 * included); tests pass a plain HttpClient wrapper.
 */
import {
  DeviceMessageList,
  DeviceSendResult,
  OneTimePreKeyCount,
  OwnDevice,
  OwnDeviceList,
  PreKeyBundleList,
  UserDeviceList,
  type OneTimePreKey as WireOneTimePreKey,
  type RegisterDeviceRequest,
  type SendDeviceMessages,
  type SignedPreKey as WireSignedPreKey,
} from '@chatalot/protocol';
import type { z } from 'zod';
import { ApiError } from '../api-error.js';
import type { RequestOptions } from '../http-client.js';

/** What the E2E layer needs from AuthClient (its `authed` method). */
export interface AuthedRequester {
  authed<S extends z.ZodType>(path: string, options?: RequestOptions<S>): Promise<z.output<S>>;
}

export interface RetryOptions {
  /** Tries after the first (default 4). */
  retries?: number;
  /** A longer Retry-After is not waited for: the error is thrown (default 5 s). */
  maxWaitSecs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Retries calls answered `429 rate_limited` after the server's Retry-After, when that is
 * short (the per-IP REST bucket refills in about a second; a bundle fetch limit of minutes is
 * thrown at once). The E2E layer makes bursts of small calls (device lists of every member,
 * prekey uploads), so it wraps its requester with this.
 */
export function retryRateLimited(client: AuthedRequester, options: RetryOptions = {}): AuthedRequester {
  const retries = options.retries ?? 4;
  const maxWaitSecs = options.maxWaitSecs ?? 5;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    async authed<S extends z.ZodType>(path: string, opts?: RequestOptions<S>): Promise<z.output<S>> {
      for (let attempt = 0; ; attempt++) {
        try {
          return await client.authed(path, opts);
        } catch (err) {
          const wait = err instanceof ApiError && err.code === 'rate_limited' ? (err.retryAfterSecs ?? 1) : undefined;
          if (wait === undefined || wait > maxWaitSecs || attempt >= retries) throw err;
          await sleep(wait * 1000);
        }
      }
    },
  };
}

export type OwnDeviceListResponse = z.output<typeof OwnDeviceList>;
export type OwnDeviceResponse = z.output<typeof OwnDevice>;
export type UserDeviceListResponse = z.output<typeof UserDeviceList>;
export type PreKeyBundleListResponse = z.output<typeof PreKeyBundleList>;
export type DeviceMessageListResponse = z.output<typeof DeviceMessageList>;
export type DeviceSendResultResponse = z.output<typeof DeviceSendResult>;
export type RegisterDeviceInput = z.input<typeof RegisterDeviceRequest>;

/** The key service routes (docs/encryption.md, "Key service"). */
export interface KeyServiceApi {
  registerDevice(body: RegisterDeviceInput): Promise<OwnDeviceResponse>;
  ownDevices(): Promise<OwnDeviceListResponse>;
  removeDevice(deviceId: number): Promise<void>;
  replaceSignedPreKey(deviceId: number, key: WireSignedPreKey): Promise<void>;
  uploadOneTimePreKeys(deviceId: number, keys: WireOneTimePreKey[]): Promise<number>;
  oneTimePreKeyCount(deviceId: number): Promise<number>;
  userDevices(userId: string): Promise<UserDeviceListResponse>;
  /** Claims one one-time prekey per device; at most 10 device ids per call. */
  bundles(userId: string, deviceIds?: readonly number[]): Promise<PreKeyBundleListResponse>;
}

export class KeysApi implements KeyServiceApi {
  constructor(private readonly client: AuthedRequester) {}

  registerDevice(body: RegisterDeviceInput): Promise<OwnDeviceResponse> {
    return this.client.authed('/api/keys/devices', { method: 'POST', body, response: OwnDevice });
  }

  ownDevices(): Promise<OwnDeviceListResponse> {
    return this.client.authed('/api/keys/devices', { response: OwnDeviceList });
  }

  async removeDevice(deviceId: number): Promise<void> {
    await this.client.authed(`/api/keys/devices/${deviceId}`, { method: 'DELETE' });
  }

  async replaceSignedPreKey(deviceId: number, key: WireSignedPreKey): Promise<void> {
    await this.client.authed(`/api/keys/devices/${deviceId}/signed-prekey`, { method: 'PUT', body: key });
  }

  async uploadOneTimePreKeys(deviceId: number, keys: WireOneTimePreKey[]): Promise<number> {
    const res = await this.client.authed(`/api/keys/devices/${deviceId}/one-time-prekeys`, {
      method: 'POST',
      body: { one_time_prekeys: keys },
      response: OneTimePreKeyCount,
    });
    return res.count;
  }

  async oneTimePreKeyCount(deviceId: number): Promise<number> {
    const res = await this.client.authed(`/api/keys/devices/${deviceId}/one-time-prekeys/count`, {
      response: OneTimePreKeyCount,
    });
    return res.count;
  }

  userDevices(userId: string): Promise<UserDeviceListResponse> {
    return this.client.authed(`/api/keys/users/${encodeURIComponent(userId)}/devices`, { response: UserDeviceList });
  }

  bundles(userId: string, deviceIds?: readonly number[]): Promise<PreKeyBundleListResponse> {
    const query = deviceIds && deviceIds.length > 0 ? `?device_ids=${deviceIds.join(',')}` : '';
    return this.client.authed(`/api/keys/users/${encodeURIComponent(userId)}/bundles${query}`, {
      response: PreKeyBundleList,
    });
  }
}

/** The device inbox routes: envelopes addressed to one device, held until it acknowledges them. */
export class DeviceInboxApi {
  constructor(private readonly client: AuthedRequester) {}

  /**
   * `POST /api/device-messages` (at most 500 envelopes; see DEVICE_MESSAGE_LIMITS). The answer
   * names devices that got nothing (unknown, or inbox full).
   */
  send(input: SendDeviceMessages): Promise<DeviceSendResultResponse> {
    return this.client.authed('/api/device-messages', { method: 'POST', body: input, response: DeviceSendResult });
  }

  /** `GET /api/device-messages?device_id=N`: pending envelopes, oldest first. */
  list(deviceId: number): Promise<DeviceMessageListResponse> {
    return this.client.authed(`/api/device-messages?device_id=${deviceId}`, { response: DeviceMessageList });
  }

  /** `POST /api/device-messages/ack`: deletes processed envelopes. */
  async ack(deviceId: number, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.client.authed('/api/device-messages/ack', { method: 'POST', body: { device_id: deviceId, ids } });
  }
}

/**
 * Linking a new device (PRODUCT.md §5 "Devices", Signal's model: one identity key per user).
 *
 * New device (signed in, without the identity key):
 *   1. `DeviceLink.open` makes an ephemeral X25519 key pair, opens a provisioning session on the
 *      server with its public half and shows the link code (also as a QR code).
 *   2. `wait` polls for the envelope (backoff), opens it with the ephemeral key and checks that
 *      the identity in it is the account's; `E2EClient.start({ linkedIdentity })` then registers
 *      this device with its own signed prekey and one-time prekeys.
 * Existing device (holds the identity key):
 *   3. `inspectLinkCode` reads the session the typed code names and checks the code's key tag
 *      against the ephemeral key the server hands out; the person sees the new device's name.
 *   4. `approveDeviceLink` seals the identity to that key (`sealLinkEnvelope`, the session id
 *      bound as associated data) and posts the opaque envelope.
 *
 * The code is the session id (10 characters) and 15 characters of SHA-256 over the ephemeral
 * key (75 bits): a server that swapped in its own key would need a second preimage of that tag
 * within the session's ten minutes. Characters are Crockford base32; O, I and L are read as 0,
 * 1 and 1, and spaces and dashes are ignored.
 */
import {
  defaultContext,
  generateLinkKeyPair,
  openLinkEnvelope,
  sealLinkEnvelope,
  type CryptoContext,
  type IdentityKeyPair,
  type KeyPair,
} from '@chatalot/crypto';
import {
  PROVISIONING_ID_ALPHABET,
  PROVISIONING_ID_LENGTH,
  PROVISIONING_LIMITS,
  DeviceLabel,
  DeviceLabelList,
  ProvisioningEnvelope,
  ProvisioningSession,
  ProvisioningSessionCreated,
} from '@chatalot/protocol';
import type { z } from 'zod';
import { ApiError } from '../api-error.js';
import type { AuthedRequester, KeyServiceApi } from './api.js';
import {
  decodeRecord,
  encodeRecord,
  equalBytes,
  fromBase64,
  fromBase64Url,
  toBase64,
  toBase64Url,
  utf8,
} from './bytes.js';
import { E2EError } from './errors.js';
import type { StoredIdentity } from './key-store.js';

const TAG_LENGTH = 15;
export const LINK_CODE_LENGTH = PROVISIONING_ID_LENGTH + TAG_LENGTH;
const PAYLOAD_VERSION = 1;

export type ProvisioningSessionView = z.output<typeof ProvisioningSession>;
export type DeviceLabelView = z.output<typeof DeviceLabel>;

/** The provisioning routes (`/api/provisioning/sessions…`). */
export class ProvisioningApi {
  constructor(private readonly client: AuthedRequester) {}

  create(ephemeralKey: Uint8Array, deviceName: string) {
    return this.client.authed('/api/provisioning/sessions', {
      method: 'POST',
      body: { ephemeral_key: toBase64Url(ephemeralKey), device_name: deviceName },
      response: ProvisioningSessionCreated,
    });
  }

  get(sessionId: string): Promise<ProvisioningSessionView> {
    return this.client.authed(`/api/provisioning/sessions/${sessionId}`, { response: ProvisioningSession });
  }

  async approve(sessionId: string, envelope: Uint8Array): Promise<void> {
    await this.client.authed(`/api/provisioning/sessions/${sessionId}/envelope`, {
      method: 'POST',
      body: { envelope: toBase64(envelope) },
    });
  }

  async envelope(sessionId: string): Promise<Uint8Array | null> {
    const res = await this.client.authed(`/api/provisioning/sessions/${sessionId}/envelope`, {
      response: ProvisioningEnvelope,
    });
    return res.envelope === null ? null : fromBase64(res.envelope, 'envelope');
  }

  async remove(sessionId: string): Promise<void> {
    await this.client.authed(`/api/provisioning/sessions/${sessionId}`, { method: 'DELETE' });
  }

  /** How each of the user's devices names itself, and when it last reported itself. */
  async deviceLabels(): Promise<DeviceLabelView[]> {
    return (await this.client.authed('/api/provisioning/devices', { response: DeviceLabelList })).labels;
  }

  /** Reports this device's name (and that it is in use now). */
  async reportDeviceLabel(deviceId: number, name: string): Promise<void> {
    await this.client.authed(`/api/provisioning/devices/${deviceId}`, {
      method: 'PUT',
      body: { name: name.trim().slice(0, PROVISIONING_LIMITS.deviceNameChars) || 'Unnamed device' },
      response: DeviceLabel,
    });
  }
}

// ------------------------------------------------------------------ the code

async function keyTag(ephemeralKey: Uint8Array): Promise<string> {
  const input = new Uint8Array([...utf8('chatalot/v1/link-code'), ...ephemeralKey]);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', input));
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < TAG_LENGTH) {
      bits -= 5;
      out += PROVISIONING_ID_ALPHABET[(value >> bits) & 31];
    }
    value &= (1 << bits) - 1;
    if (out.length === TAG_LENGTH) break;
  }
  return out;
}

/** The code to show: 25 characters in groups of five. */
export async function linkCode(sessionId: string, ephemeralKey: Uint8Array): Promise<string> {
  const raw = sessionId + (await keyTag(ephemeralKey));
  return raw.match(/.{5}/g)!.join('-');
}

/** Reads a typed or pasted code; undefined when it cannot be one. */
export function parseLinkCode(text: string): { sessionId: string; tag: string } | undefined {
  const raw = text.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (raw.length !== LINK_CODE_LENGTH || [...raw].some((c) => !PROVISIONING_ID_ALPHABET.includes(c))) return undefined;
  return { sessionId: raw.slice(0, PROVISIONING_ID_LENGTH), tag: raw.slice(PROVISIONING_ID_LENGTH) };
}

// ------------------------------------------------------------------ the payload

interface LinkPayload {
  v: number;
  user_id: string;
  identity_public: Uint8Array;
  identity_private: Uint8Array;
}

function encodePayload(identity: StoredIdentity): Uint8Array {
  const payload: LinkPayload = {
    v: PAYLOAD_VERSION,
    user_id: identity.userId,
    identity_public: identity.identity.publicKey,
    identity_private: identity.identity.privateKey,
  };
  return encodeRecord(payload);
}

function decodePayload(bytes: Uint8Array): StoredIdentity {
  let p: Partial<LinkPayload>;
  try {
    p = decodeRecord<Partial<LinkPayload>>(bytes);
  } catch {
    throw new E2EError('invalid_format', 'the link envelope does not hold a link payload');
  }
  if (p.v !== PAYLOAD_VERSION) throw new E2EError('unsupported_version', `link payload version ${String(p.v)}`);
  const ok = (b: unknown): b is Uint8Array => b instanceof Uint8Array && b.length === 32;
  if (typeof p.user_id !== 'string' || !ok(p.identity_public) || !ok(p.identity_private)) {
    throw new E2EError('invalid_format', 'the link payload is incomplete');
  }
  return { userId: p.user_id, identity: { publicKey: p.identity_public, privateKey: p.identity_private } };
}

// ------------------------------------------------------------------ existing device

/** A session the typed code names, checked against the code: safe to show and approve. */
export interface LinkRequest {
  sessionId: string;
  deviceName: string;
  ephemeralKey: Uint8Array;
  createdAt: number;
  expiresAt: number;
  approved: boolean;
}

/**
 * Looks up the session a code names. Throws E2EError `invalid_format` for a code that is not
 * one, and `untrusted_identity` when the server's key does not match the code (do not approve);
 * ApiError `not_found` when there is no such open session of this user.
 */
export async function inspectLinkCode(api: ProvisioningApi, code: string): Promise<LinkRequest> {
  const parsed = parseLinkCode(code);
  if (!parsed) throw new E2EError('invalid_format', 'that is not a link code');
  const session = await api.get(parsed.sessionId);
  const ephemeralKey = fromBase64Url(session.ephemeral_key, 'ephemeral key');
  if ((await keyTag(ephemeralKey)) !== parsed.tag) {
    throw new E2EError('untrusted_identity', 'the code does not match the key the server holds for it');
  }
  return {
    sessionId: session.id,
    deviceName: session.device_name,
    ephemeralKey,
    createdAt: session.created_at,
    expiresAt: session.expires_at,
    approved: session.approved,
  };
}

/** Seals this device's identity to the new device's key and posts it (once per session). */
export async function approveDeviceLink(
  api: ProvisioningApi,
  request: LinkRequest,
  identity: StoredIdentity,
  ctx: CryptoContext = defaultContext(),
): Promise<void> {
  const envelope = sealLinkEnvelope(ctx, request.ephemeralKey, utf8(request.sessionId), encodePayload(identity));
  await api.approve(request.sessionId, envelope);
}

// ------------------------------------------------------------------ new device

export interface DeviceLinkOptions {
  api: ProvisioningApi;
  /** The signed-in user: the envelope must carry their identity. */
  userId: string;
  /** How this device names itself to the approving one. */
  deviceName: string;
  /** The key service: the account's identity key is checked against the envelope's. */
  keys: Pick<KeyServiceApi, 'ownDevices'>;
  ctx?: CryptoContext;
  /** Poll backoff: first wait, growth, cap (defaults 1 s, ×1.5, 5 s). */
  pollMs?: { first: number; factor: number; max: number };
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const abortable = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** The new device's side of one link: its code, and the wait for the approval. */
export class DeviceLink {
  private constructor(
    private readonly o: DeviceLinkOptions,
    private readonly keyPair: KeyPair,
    readonly sessionId: string,
    readonly code: string,
    readonly expiresAt: number,
  ) {}

  static async open(o: DeviceLinkOptions): Promise<DeviceLink> {
    const ctx = o.ctx ?? defaultContext();
    const keyPair = generateLinkKeyPair(ctx);
    const name = o.deviceName.trim().slice(0, PROVISIONING_LIMITS.deviceNameChars) || 'New device';
    const created = await o.api.create(keyPair.publicKey, name);
    return new DeviceLink(o, keyPair, created.id, await linkCode(created.id, keyPair.publicKey), created.expires_at);
  }

  /**
   * Polls until the envelope arrives, then opens and checks it and ends the session. Resolves
   * with the identity to start with; undefined when aborted. Throws ApiError `not_found` once
   * the session expired, CryptoError `decrypt_failed` for an envelope not sealed to this key and
   * session, E2EError `invalid_format` for one carrying another account's identity.
   */
  async wait(signal?: AbortSignal): Promise<IdentityKeyPair | undefined> {
    const poll = this.o.pollMs ?? { first: 1000, factor: 1.5, max: 5000 };
    const sleep = this.o.sleep ?? abortable;
    let delay = poll.first;
    for (;;) {
      if (signal?.aborted) return undefined;
      const envelope = await this.o.api.envelope(this.sessionId);
      if (envelope) return this.accept(envelope);
      await sleep(delay, signal);
      delay = Math.min(poll.max, delay * poll.factor);
    }
  }

  /** Ends the session on the server (leaving the link screen). */
  async cancel(): Promise<void> {
    try {
      await this.o.api.remove(this.sessionId);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'not_found')) throw err;
    }
  }

  private async accept(envelope: Uint8Array): Promise<IdentityKeyPair> {
    const ctx = this.o.ctx ?? defaultContext();
    const payload = decodePayload(openLinkEnvelope(ctx, this.keyPair, utf8(this.sessionId), envelope));
    if (payload.userId !== this.o.userId) throw new E2EError('invalid_format', 'the envelope is for another account');
    const listed = (await this.o.keys.ownDevices()).identity_key;
    if (listed === null || !equalBytes(fromBase64Url(listed, 'identity key'), payload.identity.publicKey)) {
      throw new E2EError('invalid_format', 'the envelope does not hold this account’s identity key');
    }
    await this.cancel();
    return payload.identity;
  }
}

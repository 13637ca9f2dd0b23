/**
 * Test support: an in-process stand-in for the server's parts the E2E layer talks to. It
 * answers the key service and device inbox REST routes through a `fetch` function (so the
 * real KeysApi / DeviceInboxApi and their response validation run), hands out each one-time
 * prekey once, keeps device messages per device until acked, stores channel messages with
 * per-channel seq, and queues the events the real server would publish (keys.low,
 * device.added/removed, identity.changed, device.message). The bearer token is the user id.
 */
import {
  AckDeviceMessages,
  CreateProvisioningSession,
  KEY_LIMITS,
  PROVISIONING_ID_ALPHABET,
  PROVISIONING_LIMITS,
  ProvisioningEnvelopeBody,
  RegisterDeviceRequest,
  SendDeviceMessages,
  SendMessage,
  SignedPreKey,
  UploadOneTimePreKeysRequest,
  type DeviceMessage,
  type Message,
  type MessageAck,
  type OneTimePreKey as WireOneTimePreKey,
  type ProvisioningSession,
  type SignedPreKey as WireSignedPreKey,
} from '@chatalot/protocol';
import type { z } from 'zod';
import { HttpClient, type RequestOptions } from '../http-client.js';
import type { AuthedRequester } from './api.js';

interface RelayDevice {
  id: number;
  signedPreKey: WireSignedPreKey;
  signedPreKeyUpdatedAt: number;
  oneTimePreKeys: WireOneTimePreKey[];
  createdAt: number;
}

interface RelayUser {
  identityKey: string | null;
  nextDeviceId: number;
  devices: Map<number, RelayDevice>;
}

export interface RelayEvent {
  type: string;
  [k: string]: unknown;
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

export class TestRelay {
  readonly users = new Map<string, RelayUser>();
  /** Pending device messages per `<userId>/<deviceId>`. */
  readonly inboxes = new Map<string, DeviceMessage[]>();
  readonly channels = new Map<string, { members: Set<string>; messages: Message[] }>();
  /** Events per user topic, in publish order (tests drain them). */
  readonly events = new Map<string, RelayEvent[]>();
  /** Every REST call, `METHOD path`. */
  readonly calls: string[] = [];
  private nextMessageId = 1;
  private clock = 1_700_000_000_000;

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    const auth = new Headers(init?.headers).get('authorization');
    const userId = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    this.calls.push(`${method} ${url.pathname}`);
    try {
      if (!userId) throw new HttpFailure(401, 'unauthorized');
      const body = init?.body ? (JSON.parse(String(init.body)) as unknown) : undefined;
      const out = this.route(userId, method, url, body);
      return out === undefined
        ? new Response(null, { status: 204 })
        : new Response(JSON.stringify(out), { status: 200, headers: { 'content-type': 'application/json' } });
    } catch (err) {
      const f = err instanceof HttpFailure ? err : new HttpFailure(400, 'validation_error');
      return new Response(JSON.stringify({ error: { code: f.code, message: f.message } }), {
        status: f.status,
        headers: { 'content-type': 'application/json' },
      });
    }
  };

  /** An `authed` requester for `userId` over this relay. */
  requester(userId: string): AuthedRequester {
    const http = new HttpClient({ baseUrl: 'http://relay.test', getAccessToken: () => userId, fetch: this.fetch });
    return {
      authed: <S extends z.ZodType>(path: string, options?: RequestOptions<S>) => http.request(path, options),
    };
  }

  private now(): number {
    return this.clock++;
  }

  private user(id: string): RelayUser {
    let u = this.users.get(id);
    if (!u) {
      u = { identityKey: null, nextDeviceId: 1, devices: new Map() };
      this.users.set(id, u);
    }
    return u;
  }

  private publish(topicUserId: string, event: RelayEvent): void {
    this.events.set(topicUserId, [...(this.events.get(topicUserId) ?? []), event]);
  }

  /** Publishes to the user and to everyone sharing a channel with them (as the server does). */
  private publishToContacts(userId: string, event: RelayEvent): void {
    const to = new Set([userId]);
    for (const c of this.channels.values()) if (c.members.has(userId)) for (const m of c.members) to.add(m);
    for (const u of to) this.publish(u, event);
  }

  /** Takes the queued events of a user. */
  drainEvents(userId: string): RelayEvent[] {
    const out = this.events.get(userId) ?? [];
    this.events.set(userId, []);
    return out;
  }

  private ownDevice(userId: string, deviceId: string | undefined): RelayDevice {
    const d = this.user(userId).devices.get(Number(deviceId));
    if (!d) throw new HttpFailure(404, 'not_found');
    return d;
  }

  private parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
    const r = schema.safeParse(body);
    if (!r.success) throw new HttpFailure(400, 'validation_error');
    return r.data;
  }

  /**
   * The provisioning relay, per user (the real server also tells the user's sign-in sessions
   * apart: apps/server/src/provisioning). `tamper` rewrites envelopes in transit.
   */
  readonly linkSessions = new Map<string, { userId: string; session: ProvisioningSession; envelope: string | null }>();
  tamper: ((envelope: string) => string) | undefined;

  private provisioning(me: string, method: string, id: string | undefined, sub: string | undefined, body: unknown) {
    if (method === 'POST' && id === undefined) {
      const input = this.parse(CreateProvisioningSession, body);
      const sessionId = `${PROVISIONING_ID_ALPHABET.slice(0, 6)}${String(this.linkSessions.size).padStart(4, '0')}`;
      const now = this.now();
      const session = {
        id: sessionId,
        device_name: input.device_name,
        ephemeral_key: input.ephemeral_key,
        created_at: now,
        expires_at: now + PROVISIONING_LIMITS.sessionTtlMs,
        approved: false,
      };
      this.linkSessions.set(sessionId, { userId: me, session, envelope: null });
      return { id: sessionId, expires_at: session.expires_at };
    }
    const entry = id === undefined ? undefined : this.linkSessions.get(id);
    if (!entry || entry.userId !== me) throw new HttpFailure(404, 'not_found');
    if (method === 'GET' && sub === undefined) return { ...entry.session, approved: entry.envelope !== null };
    if (method === 'DELETE' && sub === undefined) {
      this.linkSessions.delete(entry.session.id);
      return undefined;
    }
    if (method === 'POST' && sub === 'envelope') {
      if (entry.envelope !== null) throw new HttpFailure(409, 'conflict');
      const envelope = this.parse(ProvisioningEnvelopeBody, body).envelope;
      entry.envelope = this.tamper ? this.tamper(envelope) : envelope;
      return undefined;
    }
    if (method === 'GET' && sub === 'envelope') return { envelope: entry.envelope };
    throw new HttpFailure(404, 'not_found');
  }

  private route(me: string, method: string, url: URL, body: unknown): unknown {
    const p = url.pathname.split('/').slice(1); // ['api', 'keys', …]
    if (method === 'POST' && url.pathname === '/api/keys/devices') return this.register(me, body);
    if (method === 'GET' && url.pathname === '/api/keys/devices') return this.ownDevices(me);
    if (p[1] === 'keys' && p[2] === 'devices') {
      const device = this.ownDevice(me, p[3]);
      if (method === 'PUT' && p[4] === 'signed-prekey') {
        device.signedPreKey = this.parse(SignedPreKey, body);
        device.signedPreKeyUpdatedAt = this.now();
        return undefined;
      }
      if (method === 'POST' && p[4] === 'one-time-prekeys') {
        const keys = this.parse(UploadOneTimePreKeysRequest, body).one_time_prekeys;
        if (keys.some((k) => device.oneTimePreKeys.some((h) => h.key_id === k.key_id))) {
          throw new HttpFailure(409, 'conflict');
        }
        if (device.oneTimePreKeys.length + keys.length > KEY_LIMITS.oneTimePreKeysPerDevice) {
          throw new HttpFailure(409, 'limit_reached');
        }
        device.oneTimePreKeys.push(...keys);
        return { count: device.oneTimePreKeys.length };
      }
      if (method === 'GET' && p[4] === 'one-time-prekeys' && p[5] === 'count') {
        return { count: device.oneTimePreKeys.length };
      }
    }
    if (method === 'GET' && p[1] === 'keys' && p[2] === 'users' && p[3]) {
      const target = decodeURIComponent(p[3]);
      const u = this.user(target);
      if (p[4] === 'devices') {
        return {
          user_id: target,
          identity_key: u.identityKey,
          devices: [...u.devices.values()].map((d) => ({ device_id: d.id, created_at: d.createdAt })),
        };
      }
      if (p[4] === 'bundles') {
        const ids = url.searchParams.get('device_ids')?.split(',').map(Number);
        return { user_id: target, identity_key: u.identityKey, bundles: this.claimBundles(target, ids) };
      }
    }
    if (url.pathname === '/api/device-messages') {
      if (method === 'POST') return this.sendDeviceMessages(me, this.parse(SendDeviceMessages, body));
      if (method === 'GET') {
        this.ownDevice(me, url.searchParams.get('device_id') ?? undefined);
        const pending = this.inboxes.get(`${me}/${url.searchParams.get('device_id')}`) ?? [];
        return { messages: pending.slice(0, 500), has_more: pending.length > 500 };
      }
    }
    if (p[1] === 'provisioning' && p[2] === 'sessions') return this.provisioning(me, method, p[3], p[4], body);
    if (method === 'POST' && url.pathname === '/api/device-messages/ack') {
      const ack = this.parse(AckDeviceMessages, body);
      const k = `${me}/${ack.device_id}`;
      const ids = new Set(ack.ids);
      this.inboxes.set(
        k,
        (this.inboxes.get(k) ?? []).filter((m) => !ids.has(m.id)),
      );
      return { deleted: ids.size };
    }
    throw new HttpFailure(404, 'not_found');
  }

  private register(me: string, body: unknown) {
    const req = this.parse(RegisterDeviceRequest, body);
    const u = this.user(me);
    if (u.identityKey !== null && u.identityKey !== req.identity_key) {
      if (!req.reset_identity) throw new HttpFailure(409, 'identity_key_mismatch');
      for (const id of [...u.devices.keys()]) {
        u.devices.delete(id);
        this.inboxes.delete(`${me}/${id}`);
        this.publishToContacts(me, { type: 'device.removed', user_id: me, device_id: id });
      }
      this.publishToContacts(me, { type: 'identity.changed', user_id: me, identity_key: req.identity_key });
    }
    u.identityKey = req.identity_key;
    const device: RelayDevice = {
      id: u.nextDeviceId++,
      signedPreKey: req.signed_prekey,
      signedPreKeyUpdatedAt: this.now(),
      oneTimePreKeys: [...req.one_time_prekeys],
      createdAt: this.now(),
    };
    u.devices.set(device.id, device);
    this.publishToContacts(me, { type: 'device.added', user_id: me, device_id: device.id });
    return this.ownDeviceView(device);
  }

  private ownDeviceView(d: RelayDevice) {
    return {
      device_id: d.id,
      signed_prekey_id: d.signedPreKey.key_id,
      signed_prekey_updated_at: d.signedPreKeyUpdatedAt,
      one_time_prekeys: d.oneTimePreKeys.length,
      created_at: d.createdAt,
    };
  }

  private ownDevices(me: string) {
    const u = this.user(me);
    return { identity_key: u.identityKey, devices: [...u.devices.values()].map((d) => this.ownDeviceView(d)) };
  }

  /** Hands out each one-time prekey once; publishes keys.low to the owner below 25. */
  private claimBundles(userId: string, ids: number[] | undefined) {
    const u = this.user(userId);
    const devices = [...u.devices.values()].filter((d) => !ids || ids.includes(d.id));
    return devices.map((d) => {
      const otk = d.oneTimePreKeys.shift() ?? null;
      if (otk && d.oneTimePreKeys.length < KEY_LIMITS.lowOneTimePreKeys) {
        this.publish(userId, { type: 'keys.low', device_id: d.id, remaining: d.oneTimePreKeys.length });
      }
      return { device_id: d.id, signed_prekey: d.signedPreKey, one_time_prekey: otk };
    });
  }

  /** Claims `n` one-time prekeys of a device, as other people's bundle fetches would. */
  drainOneTimePreKeys(userId: string, deviceId: number, n: number): void {
    for (let i = 0; i < n; i++) this.claimBundles(userId, [deviceId]);
  }

  private sendDeviceMessages(me: string, req: SendDeviceMessages): unknown {
    if (!this.user(me).devices.has(req.sender_device_id)) throw new HttpFailure(404, 'not_found');
    const unknown: { user_id: string; device_id: number }[] = [];
    let delivered = 0;
    for (const env of req.messages) {
      if (!this.users.get(env.user_id)?.devices.has(env.device_id)) {
        unknown.push({ user_id: env.user_id, device_id: env.device_id });
        continue;
      }
      delivered++;
      const message: DeviceMessage = {
        id: `dm-${this.nextMessageId++}`,
        sender_id: me,
        sender_device_id: req.sender_device_id,
        ciphertext: env.ciphertext,
        created_at: this.now(),
      };
      const k = `${env.user_id}/${env.device_id}`;
      this.inboxes.set(k, [...(this.inboxes.get(k) ?? []), message]);
      this.publish(env.user_id, { type: 'device.message', device_id: env.device_id, message });
    }
    return { delivered, unknown_devices: unknown, full_devices: [] };
  }

  /** Pending device messages of one device. */
  inbox(userId: string, deviceId: number): DeviceMessage[] {
    return this.inboxes.get(`${userId}/${deviceId}`) ?? [];
  }

  // Channels

  createChannel(id: string, members: string[]): void {
    this.channels.set(id, { members: new Set(members), messages: [] });
  }

  members(channelId: string): string[] {
    return [...(this.channels.get(channelId)?.members ?? [])];
  }

  addMember(channelId: string, userId: string): void {
    this.channels.get(channelId)!.members.add(userId);
  }

  removeMember(channelId: string, userId: string): void {
    this.channels.get(channelId)!.members.delete(userId);
  }

  /** message.send: validates like the server, checks membership, assigns id and seq. */
  post(userId: string, input: SendMessage): MessageAck {
    const req = SendMessage.parse(input);
    const channel = this.channels.get(req.channel_id);
    if (!channel?.members.has(userId)) throw new Error('not a member');
    const created_at = this.now();
    const message: Message = {
      id: `m-${this.nextMessageId++}`,
      channel_id: req.channel_id,
      seq: channel.messages.length + 1,
      sender_id: userId,
      nonce: req.nonce,
      ciphertext: req.ciphertext,
      encryption: req.encryption,
      reply_to: req.reply_to ?? null,
      thread_root: null,
      forwarded_from: req.forwarded_from ?? null,
      mentions: req.mentions ?? [],
      mention_everyone: req.mention_everyone ?? false,
      created_at,
      edited_at: null,
      deleted_at: null,
      expires_at: null,
      reactions: [],
      pinned: false,
    };
    channel.messages.push(message);
    return { nonce: message.nonce, id: message.id, channel_id: message.channel_id, seq: message.seq, created_at };
  }

  /** A channel's messages as a member would fetch them. */
  history(channelId: string): Message[] {
    return structuredClone(this.channels.get(channelId)?.messages ?? []);
  }

  /** The message with this id (a copy). */
  message(id: string): Message {
    for (const c of this.channels.values()) {
      const m = c.messages.find((x) => x.id === id);
      if (m) return structuredClone(m);
    }
    throw new Error(`no message ${id}`);
  }
}

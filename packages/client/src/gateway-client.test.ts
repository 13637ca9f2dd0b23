import { CLOSE_CODES, type Message } from '@chatalot/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ApiError,
  GatewayClient,
  type GatewayClientOptions,
  type GatewaySignedOut,
  type GatewayState,
} from './index.js';

/**
 * The gateway client against a scripted fake socket, with fake timers: the parts the end-to-end
 * test (e2e/gateway-client.test.ts, against the real server) cannot provoke on demand — close
 * codes, live gaps, resume.gap, token renewal, pacing, dead connections.
 */

type Frame = { op: string; ref?: string; [field: string]: unknown };

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  readonly sent: Frame[] = [];
  closedByClient: number | null = null;
  /** Answers `ping` like the server; off to play a dead connection. */
  autoPong = true;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.({});
    });
  }

  send(data: string): void {
    const frame = JSON.parse(data) as Frame;
    this.sent.push(frame);
    if (frame.op === 'ping' && this.autoPong) queueMicrotask(() => this.frame({ type: 'pong', ref: null }));
  }

  close(code = 1000): void {
    this.closedByClient = code;
    this.readyState = 3;
  }

  /** The server sends a frame. */
  frame(value: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(value) });
  }

  ready(channels: { channel_id: string; last_seq: number }[] = []): void {
    this.frame({ type: 'ready', user_id: 'u1', session_id: 's1', heartbeat_ms: 15_000, channels });
  }

  ack(ref: string | undefined, op: string, data: unknown): void {
    this.frame({ type: 'ack', ref: ref ?? null, op, data });
  }

  /** The server (or the network) closes the socket. */
  drop(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }

  ops(op: string): Frame[] {
    return this.sent.filter((f) => f.op === op);
  }
}

const latest = () => FakeSocket.all.at(-1)!;
const flush = () => vi.advanceTimersByTimeAsync(0);

/** A JWT-shaped token (unsigned: the client never verifies) living `ttlSecs` from now. */
function token(label: string, ttlSecs = 900): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'EdDSA' })}.${part({ sub: 'u1', label, iat, exp: iat + ttlSecs })}.sig`;
}

function message(seq: number, channel = 'c1'): Message {
  return {
    id: `${channel}-${seq}`,
    channel_id: channel,
    seq,
    sender_id: 'u2',
    nonce: `nonce-${channel}-${seq}`,
    ciphertext: 'AAAA',
    encryption: { scheme: 'sender_key' },
    reply_to: null,
    thread_root: null,
    forwarded_from: null,
    mentions: [],
    mention_everyone: false,
    created_at: seq,
    edited_at: null,
    deleted_at: null,
    expires_at: null,
    reactions: [],
    pinned: false,
  };
}
const created = (m: Message) => ({ type: 'message.created', channel_id: m.channel_id, seq: m.seq, message: m });
const input = (text: string) => ({
  channel_id: 'c1',
  ciphertext: Buffer.from(text).toString('base64'),
  encryption: { scheme: 'sender_key' as const },
});

interface Harness {
  client: GatewayClient;
  tokenRequests: boolean[];
  history: [string, number][];
  received: Message[];
  states: GatewayState[];
  signedOut: GatewaySignedOut[];
  events: { type: string }[];
}

function harness(overrides: Partial<GatewayClientOptions> = {}): Harness {
  const h: Omit<Harness, 'client'> = {
    tokenRequests: [],
    history: [],
    received: [],
    states: [],
    signedOut: [],
    events: [],
  };
  let n = 0;
  const client = new GatewayClient({
    url: 'ws://chat.test/ws',
    WebSocket: FakeSocket,
    random: () => 0,
    getAccessToken: async ({ fresh }) => {
      h.tokenRequests.push(fresh);
      return token(`t${++n}`);
    },
    fetchHistory: async (channelId, after) => {
      h.history.push([channelId, after]);
      return [];
    },
    ...overrides,
  });
  client.on('message', (m) => h.received.push(m));
  client.on('state', (s) => h.states.push(s));
  client.on('signed-out', (s) => h.signedOut.push(s));
  client.on('event', (e) => h.events.push(e));
  return { client, ...h };
}

/** Connects and answers the auth frame with ready. */
async function open(h: Harness, channels: { channel_id: string; last_seq: number }[] = []): Promise<FakeSocket> {
  const connected = h.client.connect();
  await flush();
  const socket = latest();
  expect(socket.sent[0]?.op).toBe('auth');
  socket.ready(channels);
  await connected;
  return socket;
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_800_000_000_000 });
  FakeSocket.all = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe('GatewayClient', () => {
  it('signs in with the first frame, resuming from the given cursors, and is open at ready', async () => {
    const h = harness({ cursors: [{ channel_id: 'c1', seq: 7 }] });
    const socket = await open(h, [
      { channel_id: 'c1', last_seq: 9 },
      { channel_id: 'c2', last_seq: 3 },
    ]);
    expect(socket.url).toBe('ws://chat.test/ws');
    expect(socket.sent[0]).toMatchObject({ op: 'auth', resume: [{ channel_id: 'c1', seq: 7 }] });
    expect(typeof socket.sent[0]!.token).toBe('string');
    expect(h.states).toEqual(['connecting', 'open']);
    expect(h.client.cursors()).toEqual([
      { channel_id: 'c1', seq: 7 },
      { channel_id: 'c2', seq: 3 },
    ]);
    // The replay then arrives in order and moves the cursor.
    socket.frame({ ...created(message(8)), replay: true });
    socket.frame({ ...created(message(9)), replay: true });
    socket.frame({ type: 'resumed', ref: null });
    expect(h.received.map((m) => m.seq)).toEqual([8, 9]);
    expect(h.client.cursors()[0]).toEqual({ channel_id: 'c1', seq: 9 });
  });

  it('queues sends until ready, generates a nonce, and resolves with the ack', async () => {
    const h = harness({ newNonce: () => 'generated-nonce-1' });
    const sending = h.client.send(input('hello'));
    expect(h.client.pending).toBe(1);
    const socket = await open(h);
    const frame = socket.ops('message.send')[0]!;
    expect(frame).toMatchObject({ nonce: 'generated-nonce-1', channel_id: 'c1' });
    const ack = { nonce: 'generated-nonce-1', id: 'm1', channel_id: 'c1', seq: 1, created_at: 5 };
    socket.ack(frame.ref, 'message.send', ack);
    await expect(sending).resolves.toEqual(ack);
    expect(h.client.pending).toBe(0);
  });

  it('rejects with a typed ApiError on an error frame, and before sending on a malformed input', async () => {
    const h = harness();
    const socket = await open(h);
    const sending = h.client.send({ ...input('x'), nonce: 'nonce-slow-1' });
    await flush();
    const ref = socket.ops('message.send')[0]!.ref;
    socket.frame({ type: 'error', ref, op: 'message.send', code: 'slow_mode', message: 'Slow mode is on: wait 3 s' });
    const err = (await sending.catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect([err.code, err.status, err.message]).toEqual(['slow_mode', 429, 'Slow mode is on: wait 3 s']);

    const bad = (await h.client
      .send({ ...input('x'), ciphertext: 'not base64!' })
      .catch((e: unknown) => e)) as ApiError;
    expect(bad.code).toBe('validation_error');
    expect(bad.details.map((d) => d.path)).toEqual(['ciphertext']);
    expect(socket.ops('message.send')).toHaveLength(1);
  });

  it('resends the same nonce after a reconnect and resolves once', async () => {
    const h = harness();
    const first = await open(h, [{ channel_id: 'c1', last_seq: 0 }]);
    let settled = 0;
    const sending = h.client.send({ ...input('hi'), nonce: 'nonce-resend-1' }).finally(() => settled++);
    await flush();
    expect(first.ops('message.send')).toHaveLength(1);
    first.drop(1006); // no ack: the message may or may not have been committed
    expect(h.client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1); // random 0 → exactly the 1 s minimum
    const second = latest();
    expect(second).not.toBe(first);
    await flush();
    second.ready([{ channel_id: 'c1', last_seq: 1 }]);
    await flush();
    const again = second.ops('message.send');
    expect(again.map((f) => f.nonce)).toEqual(['nonce-resend-1']);
    second.ack(again[0]!.ref, 'message.send', {
      nonce: 'nonce-resend-1',
      id: 'm1',
      channel_id: 'c1',
      seq: 1,
      created_at: 1,
    });
    expect((await sending).id).toBe('m1');
    expect(settled).toBe(1);
    expect(h.states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
  });

  it('does not repeat an edit that was in flight, but does repeat idempotent ops', async () => {
    const h = harness();
    const first = await open(h);
    const editing = h.client.edit('m1', 'AAAA');
    const deleting = h.client.delete('m2');
    await flush();
    first.drop(1001);
    const err = (await editing.catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('network_error');
    await vi.advanceTimersByTimeAsync(1000);
    await flush();
    latest().ready();
    await flush();
    const del = latest().ops('message.delete');
    expect(del).toHaveLength(1);
    expect(latest().ops('message.edit')).toHaveLength(0);
    latest().ack(del[0]!.ref, 'message.delete', null);
    await expect(deleting).resolves.toBeUndefined();
  });

  it('backs off exponentially while the server is away and starts over after a ready', async () => {
    const h = harness({ random: () => 0.999999 });
    await open(h);
    const attemptsAt: number[] = [];
    const start = Date.now();
    latest().drop(1006);
    for (let i = 0; i < 4; i++) {
      const before = FakeSocket.all.length;
      while (FakeSocket.all.length === before) await vi.advanceTimersByTimeAsync(100);
      attemptsAt.push(Math.round((Date.now() - start) / 1000));
      await flush();
      latest().drop(1006); // refused
    }
    // Windows 1–2 s, 1–4 s, 1–8 s, 1–16 s, each at its top with random ≈ 1.
    expect(attemptsAt).toEqual([2, 6, 14, 30]);
    const before = FakeSocket.all.length;
    while (FakeSocket.all.length === before) await vi.advanceTimersByTimeAsync(100);
    await flush();
    latest().ready();
    await flush();
    const t = Date.now();
    latest().drop(1006);
    while (FakeSocket.all.length === before + 1) await vi.advanceTimersByTimeAsync(100);
    expect(Math.round((Date.now() - t) / 1000)).toBe(2);
  });

  it('stops and says signed-out on 4003, rejecting what was pending', async () => {
    const h = harness();
    const socket = await open(h);
    const sending = h.client.send({ ...input('x'), nonce: 'nonce-revoked-1' });
    await flush();
    socket.drop(CLOSE_CODES.sessionRevoked);
    expect(h.signedOut).toEqual([{ reason: 'session_revoked' }]);
    expect(h.client.state).toBe('closed');
    expect(((await sending.catch((e: unknown) => e)) as ApiError).code).toBe('session_revoked');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeSocket.all).toHaveLength(1);
    await expect(h.client.send(input('later'))).rejects.toMatchObject({ code: 'network_error' });
  });

  it('on 4001 tries once more with a fresh token, then stops', async () => {
    const h = harness();
    h.client.connect().catch(() => undefined);
    await flush();
    latest().frame({ type: 'error', ref: null, op: 'auth', code: 'token_expired', message: 'expired' });
    latest().drop(CLOSE_CODES.unauthorized);
    await flush();
    expect(FakeSocket.all).toHaveLength(2); // at once, no backoff
    expect(h.tokenRequests).toEqual([false, true]);
    latest().frame({ type: 'error', ref: null, op: 'auth', code: 'invalid_token', message: 'bad' });
    latest().drop(CLOSE_CODES.unauthorized);
    expect(h.signedOut).toHaveLength(1);
    expect(h.signedOut[0]!.reason).toBe('unauthorized');
    expect(h.signedOut[0]!.error?.code).toBe('invalid_token');
    expect(h.client.state).toBe('closed');
  });

  it('on 4001 recovers when the fresh token is accepted', async () => {
    const h = harness();
    const connected = h.client.connect();
    await flush();
    latest().drop(CLOSE_CODES.unauthorized);
    await flush();
    latest().ready();
    await connected;
    expect(h.client.state).toBe('open');
    expect(h.signedOut).toEqual([]);
  });

  it('on 4002 reconnects at once with a fresh token', async () => {
    const h = harness();
    await open(h);
    latest().drop(CLOSE_CODES.tokenExpired);
    await flush();
    expect(FakeSocket.all).toHaveLength(2);
    expect(h.tokenRequests).toEqual([false, true]);
  });

  it('reconnects with backoff on the resume codes (1001 going away, 4004, 4008)', async () => {
    const h = harness();
    await open(h);
    for (const code of [CLOSE_CODES.goingAway, CLOSE_CODES.tooManySockets, CLOSE_CODES.slowConsumer]) {
      const count = FakeSocket.all.length;
      latest().drop(code);
      await flush();
      expect(FakeSocket.all).toHaveLength(count);
      await vi.advanceTimersByTimeAsync(1000);
      expect(FakeSocket.all).toHaveLength(count + 1);
      await flush();
      latest().ready();
    }
    expect(h.signedOut).toEqual([]);
  });

  it('stops with refresh_failed when no token can be had, and retries when the token source is only unreachable', async () => {
    let calls = 0;
    const h = harness({
      getAccessToken: async () => {
        calls++;
        if (calls === 1) throw new ApiError('network_error', 'offline', 0);
        throw new ApiError('invalid_token', 'Sign in again', 401);
      },
    });
    const connecting = h.client.connect().catch((e: unknown) => e);
    await flush();
    expect(h.client.state).toBe('connecting');
    await vi.advanceTimersByTimeAsync(1000);
    expect(await connecting).toMatchObject({ code: 'network_error' });
    expect(h.signedOut.map((s) => s.reason)).toEqual(['refresh_failed']);
    expect(FakeSocket.all).toHaveLength(0);
  });

  it('fills a live gap from history and delivers each message once, in order', async () => {
    const h = harness({
      fetchHistory: async (channelId, after) => {
        h.history.push([channelId, after]);
        return [7, 8, 9, 10].map((s) => message(s));
      },
    });
    const socket = await open(h, [{ channel_id: 'c1', last_seq: 5 }]);
    socket.frame(created(message(6)));
    socket.frame(created(message(9))); // 7 and 8 are missing
    await flush();
    expect(h.history).toEqual([['c1', 6]]);
    socket.frame(created(message(10))); // already read from history
    socket.frame(created(message(11)));
    expect(h.received.map((m) => m.seq)).toEqual([6, 7, 8, 9, 10, 11]);
  });

  it('retries a failed history read with backoff, holding later messages meanwhile', async () => {
    let fail = true;
    const h = harness({
      fetchHistory: async (channelId, after) => {
        h.history.push([channelId, after]);
        if (fail) throw new ApiError('network_error', 'offline', 0);
        return [message(2)];
      },
    });
    const errors: string[] = [];
    h.client.on('error', (e) => errors.push(e.code));
    const socket = await open(h, [{ channel_id: 'c1', last_seq: 0 }]);
    socket.frame(created(message(1)));
    socket.frame(created(message(3)));
    await flush();
    expect(h.received.map((m) => m.seq)).toEqual([1]);
    expect(errors).toEqual(['network_error']);
    fail = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.history).toEqual([
      ['c1', 1],
      ['c1', 1],
    ]);
    expect(h.received.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('on resume.gap pages the history until a read comes back empty, merging live messages', async () => {
    const pages = new Map<number, Message[]>([
      [10, Array.from({ length: 100 }, (_, i) => message(11 + i))],
      [110, Array.from({ length: 50 }, (_, i) => message(111 + i))],
    ]);
    const h = harness({
      cursors: [{ channel_id: 'c1', seq: 10 }],
      fetchHistory: async (channelId, after) => {
        h.history.push([channelId, after]);
        return pages.get(after) ?? [];
      },
    });
    const socket = await open(h, [{ channel_id: 'c1', last_seq: 2000 }]);
    socket.frame({ type: 'resume.gap', channel_id: 'c1', seq: 10 });
    socket.frame(created(message(161))); // live delivery continues from the latest seq
    await flush();
    expect(h.history).toEqual([
      ['c1', 10],
      ['c1', 110],
      ['c1', 161],
    ]);
    expect(h.received.map((m) => m.seq)).toEqual(Array.from({ length: 151 }, (_, i) => 11 + i));
  });

  it('passes other events through and reports error frames that answer nothing', async () => {
    const h = harness();
    const errors: ApiError[] = [];
    h.client.on('error', (e) => errors.push(e));
    const socket = await open(h);
    socket.frame({ type: 'typing', channel_id: 'c1', user_id: 'u2', expires_in_ms: 10_000 });
    socket.frame({ type: 'pong', ref: null });
    socket.frame({
      type: 'error',
      ref: null,
      op: null,
      code: 'invalid_json',
      message: 'A frame must be one JSON object',
    });
    expect(h.events).toEqual([{ type: 'typing', channel_id: 'c1', user_id: 'u2', expires_in_ms: 10_000 }]);
    expect(errors.map((e) => e.code)).toEqual(['invalid_json']);
  });

  it('sends the typed ops and parses their acks', async () => {
    const h = harness();
    const socket = await open(h);
    const read = h.client.markRead('c1', 40);
    const react = h.client.react('m1', '👍');
    const unreact = h.client.unreact('m1', '👍');
    const presence = h.client.setPresence('dnd');
    const typing = h.client.typing('c1');
    await flush();
    expect(socket.sent.slice(1).map((f) => f.op)).toEqual([
      'read',
      'reaction.add',
      'reaction.remove',
      'presence.set',
      'typing',
    ]);
    for (const f of socket.sent.slice(1)) {
      socket.ack(f.ref, f.op, f.op === 'read' ? { channel_id: 'c1', seq: 38 } : null);
    }
    expect(await read).toEqual({ channel_id: 'c1', seq: 38 });
    await Promise.all([react, unreact, presence, typing]);
    // Typing while disconnected is dropped, not queued.
    socket.drop(1006);
    await h.client.typing('c1');
    expect(h.client.pending).toBe(0);
  });

  it('paces frames under the server’s token bucket and resends one refused as rate_limited', async () => {
    const h = harness();
    const socket = await open(h);
    const sends = Array.from({ length: 40 }, (_, i) => h.client.send({ ...input(`m${i}`), nonce: `nonce-pace-${i}` }));
    await flush();
    // Burst of 25 minus the auth frame, then 10 per second.
    expect(socket.ops('message.send')).toHaveLength(24);
    await vi.advanceTimersByTimeAsync(1000);
    expect(socket.ops('message.send')).toHaveLength(34);
    const refused = socket.ops('message.send')[0]!;
    socket.frame({ type: 'error', ref: refused.ref, op: null, code: 'rate_limited', message: 'Too many frames' });
    await vi.advanceTimersByTimeAsync(2000);
    const nonces = socket.ops('message.send').map((f) => f.nonce);
    expect(nonces.filter((n) => n === 'nonce-pace-0')).toHaveLength(2);
    expect(new Set(nonces).size).toBe(40);
    for (const f of socket.ops('message.send')) {
      socket.ack(f.ref, 'message.send', {
        nonce: f.nonce,
        id: `id-${String(f.nonce)}`,
        channel_id: 'c1',
        seq: 1,
        created_at: 1,
      });
    }
    expect((await Promise.all(sends)).map((a) => a.nonce)).toEqual(sends.map((_, i) => `nonce-pace-${i}`));
  });

  it('renews the token with auth.refresh a minute before it expires', async () => {
    const h = harness();
    const socket = await open(h);
    expect(h.tokenRequests).toEqual([false]);
    await vi.advanceTimersByTimeAsync(839_000);
    expect(socket.ops('auth.refresh')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    const refresh = socket.ops('auth.refresh');
    expect(refresh).toHaveLength(1);
    expect(h.tokenRequests).toEqual([false, true]);
    expect(refresh[0]!.token).not.toBe(socket.sent[0]!.token);
    socket.ack(refresh[0]!.ref, 'auth.refresh', { expires_at: Date.now() + 900_000 });
    await flush();
    // The next renewal follows the new token's lifetime; the socket stayed the same throughout.
    await vi.advanceTimersByTimeAsync(840_000);
    expect(socket.ops('auth.refresh')).toHaveLength(2);
    expect(FakeSocket.all).toHaveLength(1);
    expect(socket.ops('ping').length).toBeGreaterThan(20);
  });

  it('asks for a fresh token at once when the cached one is about to expire', async () => {
    const tokens = [token('old', 3), token('new')];
    const h = harness({
      getAccessToken: async ({ fresh }) => {
        h.tokenRequests.push(fresh);
        return tokens.shift()!;
      },
    });
    await open(h);
    expect(h.tokenRequests).toEqual([false, true]);
  });

  it('pings a quiet server and gives up on a dead connection after 45 s', async () => {
    const h = harness();
    const socket = await open(h);
    socket.autoPong = false;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(socket.ops('ping').length).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(25_000);
    expect(socket.closedByClient).toBe(4000);
    expect(h.client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('gives up on a socket that never says ready', async () => {
    const h = harness();
    h.client.connect().catch(() => undefined);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(FakeSocket.all[0]!.closedByClient).toBe(4000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('closes on request: rejects what is pending and never reconnects', async () => {
    const h = harness();
    const socket = await open(h);
    const sending = h.client.send(input('bye'));
    h.client.close();
    expect(socket.closedByClient).toBe(1000);
    await expect(sending).rejects.toMatchObject({ code: 'network_error' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(h.states.at(-1)).toBe('closed');
    expect(h.signedOut).toEqual([]);
  });
});

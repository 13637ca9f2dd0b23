import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ChannelList,
  Community,
  CommunityInvite,
  CommunityJoinResult,
  Group,
  GroupList,
  type Message,
  type MessageAck,
} from '@chatalot/protocol';
import {
  ApiError,
  AuthClient,
  GatewayClient,
  type GatewayClientOptions,
  type GatewayEvent,
  type GatewaySignedOut,
  type GatewayState,
} from '@chatalot/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

/**
 * The SDK's GatewayClient against a real server process (SQLite, the server's own entry point),
 * in Node with the `ws` package: no browser needed. The server is stopped and started again on
 * the same port and data directory in the middle of a burst, and killed outright while a client
 * has messages queued.
 */

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const WAIT = { timeout: 60_000, interval: 50 };
const SENDER_KEY = { scheme: 'sender_key', distribution_id: 'e2e-chain' } as const;
const ADA = { username: 'ada', password: 'analytical engine 1843' };
const GRACE = { username: 'grace', password: 'compiler cobol 1959' };

const b64 = (text: string) => Buffer.from(text).toString('base64');

interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM (graceful: sockets are closed with 1001) or SIGKILL (the process just vanishes). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/**
 * Runs the server's entry point (apps/server/src/main.ts through tsx, as `npm start` does) and
 * waits for its "is running at" line. `npm start` would first rebuild the web app whenever a
 * source changed; this test needs no web app, so it points CHATALOT_WEB_DIR at an empty
 * directory and starts main.ts directly, which keeps a restart in the middle of a test quick.
 */
function startServer(env: Record<string, string>, timeoutMs = 120_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in time:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const match = /is running at (http:\/\/\S+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({
        url: match[1]!,
        child,
        output: () => out,
        stop: async (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited before it started:\n${out}`));
    });
  });
}

/** A port that was free a moment ago, so the server can come back on the same address. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Everything one GatewayClient reported. */
class Recorder {
  readonly messages: Message[] = [];
  readonly events: GatewayEvent[] = [];
  readonly states: GatewayState[] = [];
  readonly signedOut: GatewaySignedOut[] = [];
  readonly errors: ApiError[] = [];

  constructor(readonly client: GatewayClient) {
    client.on('message', (m) => this.messages.push(m));
    client.on('event', (e) => this.events.push(e));
    client.on('state', (s) => this.states.push(s));
    client.on('signed-out', (s) => this.signedOut.push(s));
    client.on('error', (e) => this.errors.push(e));
  }

  in(channelId: string): Message[] {
    return this.messages.filter((m) => m.channel_id === channelId);
  }

  withNonce(nonce: string): Message[] {
    return this.messages.filter((m) => m.nonce === nonce);
  }

  event(type: string, match: (e: GatewayEvent) => boolean = () => true): GatewayEvent | undefined {
    return this.events.find((e) => e.type === type && match(e));
  }
}

/** Each channel's messages must be in strictly increasing seq order, none twice. */
function expectOrderedOnce(messages: Message[]): void {
  const byChannel = new Map<string, number[]>();
  for (const m of messages) byChannel.set(m.channel_id, [...(byChannel.get(m.channel_id) ?? []), m.seq]);
  for (const seqs of byChannel.values()) {
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
  }
  expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length);
}

describe('GatewayClient against a real server', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  let baseUrl: string;
  let wsUrl: string;
  let ada: AuthClient;
  let grace: AuthClient;
  let adaId: string;
  let graceId: string;
  let channelId: string;
  let adaGw: GatewayClient;
  let graceGw: GatewayClient;
  let adaRec: Recorder;
  let graceRec: Recorder;
  const clients: GatewayClient[] = [];
  let historyReads = 0;

  function gateway(auth: AuthClient, overrides: Partial<GatewayClientOptions> = {}) {
    const client = new GatewayClient({
      url: wsUrl,
      WebSocket,
      getAccessToken: (o) => auth.getAccessToken(o),
      fetchHistory: (id, after) => {
        historyReads++;
        return auth.messages.after(id, after);
      },
      ...overrides,
    });
    clients.push(client);
    return { client, rec: new Recorder(client) };
  }

  const text = (channel: string, body: string, nonce?: string) => ({
    channel_id: channel,
    ciphertext: b64(body),
    encryption: SENDER_KEY,
    ...(nonce ? { nonce } : {}),
  });

  /** Sends a marker and waits until `rec` has it: everything sent before it has arrived too. */
  async function sync(rec: Recorder, from: GatewayClient = adaGw): Promise<MessageAck> {
    const ack = await from.send(text(channelId, `marker ${randomUUID()}`));
    await expect.poll(() => rec.messages.some((m) => m.id === ack.id), WAIT).toBe(true);
    return ack;
  }

  async function restart(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    await server.stop(signal);
    server = await startServer(env);
  }

  beforeAll(async () => {
    const port = await freePort();
    env = {
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'chatalot-e2e-gateway-')),
      CHATALOT_WEB_DIR: mkdtempSync(path.join(tmpdir(), 'chatalot-e2e-noweb-')),
      LISTEN_ADDR: `127.0.0.1:${port}`,
      // Many sockets per user, so that one test can send more than the resume window quickly.
      MAX_SOCKETS_PER_USER: '40',
    };
    server = await startServer(env);
    baseUrl = new URL(server.url).origin;
    wsUrl = `${baseUrl.replace(/^http/, 'ws')}/ws`;

    // The first account owns the instance; the second registers with its invite.
    ada = new AuthClient({ baseUrl });
    adaId = (await ada.register(ADA)).user.id;
    const invite = await ada.admin.createInvite({ max_uses: 1 });
    grace = new AuthClient({ baseUrl });
    graceId = (await grace.register({ ...GRACE, invite_code: invite.code })).user.id;

    // A community with a public group (every member is in it) and its #general channel.
    const community = await ada.authed('/api/communities', {
      method: 'POST',
      body: { name: 'Analytical Engines' },
      response: Community,
    });
    const groups = await ada.authed(`/api/communities/${community.id}/groups`, { response: GroupList });
    const group =
      groups.groups.find((g) => g.visibility === 'public') ??
      (await ada.authed(`/api/communities/${community.id}/groups`, {
        method: 'POST',
        body: { name: 'Everyone', visibility: 'public' },
        response: Group,
      }));
    const channels = await ada.authed(`/api/groups/${group.id}/channels`, { response: ChannelList });
    channelId = channels.channels.find((c) => c.name === 'general')!.id;
    const join = await ada.authed(`/api/communities/${community.id}/invites`, {
      method: 'POST',
      body: { max_uses: 1 },
      response: CommunityInvite,
    });
    await grace.authed(`/api/invites/${join.code}/join`, { method: 'POST', response: CommunityJoinResult });

    ({ client: adaGw, rec: adaRec } = gateway(ada));
    ({ client: graceGw, rec: graceRec } = gateway(grace));
    await Promise.all([adaGw.connect(), graceGw.connect()]);
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await server?.stop();
  });

  it('lets two members exchange messages, each delivered once to both', async () => {
    const hello = await adaGw.send(text(channelId, 'hello grace'));
    expect(hello).toMatchObject({ channel_id: channelId, seq: expect.any(Number) });
    await expect
      .poll(() => graceRec.messages.find((m) => m.id === hello.id), WAIT)
      .toMatchObject({
        seq: hello.seq,
        sender_id: adaId,
        nonce: hello.nonce,
        ciphertext: b64('hello grace'),
        encryption: SENDER_KEY,
      });

    const reply = await graceGw.send({ ...text(channelId, 'hi ada'), reply_to: hello.id });
    expect(reply.seq).toBe(hello.seq + 1);
    await expect
      .poll(() => adaRec.messages.find((m) => m.id === reply.id), WAIT)
      .toMatchObject({
        sender_id: graceId,
        reply_to: hello.id,
        thread_root: hello.id,
      });
    // The sender's own socket gets its message too (its other devices would).
    await expect.poll(() => adaRec.messages.some((m) => m.id === hello.id), WAIT).toBe(true);
    await sync(graceRec);
    for (const rec of [adaRec, graceRec]) {
      expect(rec.in(channelId).filter((m) => m.id === hello.id || m.id === reply.id)).toHaveLength(2);
      expectOrderedOnce(rec.messages);
    }
  });

  it('delivers a burst of 200 exactly once and in order across a server restart in the middle of it', async () => {
    const nonces = Array.from({ length: 200 }, () => randomUUID());
    const wanted = new Set<string>(nonces);
    const burstAt = (rec: Recorder) => rec.messages.filter((m) => wanted.has(m.nonce));
    let acked = 0;
    const sends = nonces.map((nonce, i) =>
      graceGw.send(text(channelId, `burst ${i}`, nonce)).then((ack) => {
        acked++;
        return ack;
      }),
    );
    await expect.poll(() => burstAt(adaRec).length, WAIT).toBeGreaterThanOrEqual(40);
    // The client paces itself to the gateway's 10 frames/s, so most of the burst is still to go.
    const unackedAtRestart = 200 - acked;
    expect(unackedAtRestart).toBeGreaterThan(0);
    const statesBefore = adaRec.states.length;

    await restart('SIGTERM');

    const acks = await Promise.all(sends);
    expect(acks.map((a) => a.nonce)).toEqual(nonces);
    // One message per nonce, committed in the order sent (one socket, frames handled in order).
    expect(acks.map((a) => a.seq)).toEqual(acks.map((_, i) => acks[0]!.seq + i));

    await expect.poll(() => burstAt(adaRec).length, WAIT).toBe(200);
    await sync(adaRec);
    await sync(graceRec);
    for (const rec of [adaRec, graceRec]) {
      const burst = burstAt(rec);
      expect(burst.map((m) => m.nonce)).toEqual(nonces);
      expect(burst.map((m) => m.id)).toEqual(acks.map((a) => a.id));
      expect(burst.map((m) => Buffer.from(m.ciphertext, 'base64').toString())).toEqual(
        nonces.map((_, i) => `burst ${i}`),
      );
      expectOrderedOnce(rec.messages);
    }
    // Both clients noticed the restart and came back by themselves.
    expect(adaRec.states.slice(statesBefore)).toEqual(['reconnecting', 'open']);
    expect(graceGw.state).toBe('open');
    expect(graceGw.pending).toBe(0);
  }, 180_000);

  it('queues sends while the server is down and delivers each once when it is back', async () => {
    await server.stop('SIGKILL');
    await expect.poll(() => [adaGw.state, graceGw.state], WAIT).toEqual(['reconnecting', 'reconnecting']);
    const offline = Array.from({ length: 5 }, (_, i) => adaGw.send(text(channelId, `offline ${i}`)));
    expect(adaGw.pending).toBe(5);

    server = await startServer(env);

    const acks = await Promise.all(offline);
    expect(acks.map((a) => a.seq)).toEqual(acks.map((_, i) => acks[0]!.seq + i));
    await expect.poll(() => acks.every((a) => graceRec.messages.some((m) => m.id === a.id)), WAIT).toBe(true);
    await sync(graceRec);
    const seen = graceRec.messages.filter((m) => acks.some((a) => a.id === m.id));
    expect(seen.map((m) => Buffer.from(m.ciphertext, 'base64').toString())).toEqual(acks.map((_, i) => `offline ${i}`));
    expectOrderedOnce(graceRec.messages);
    expect(adaGw.pending).toBe(0);
  }, 180_000);

  it('makes one message from one nonce, sent twice and from a second session', async () => {
    const nonce = randomUUID();
    const twice = await Promise.all([
      adaGw.send(text(channelId, 'only once', nonce)),
      adaGw.send(text(channelId, 'only once', nonce)),
    ]);
    const other = new AuthClient({ baseUrl });
    await other.login({ ...ADA, device_name: 'second device' });
    const { client: otherGw } = gateway(other);
    await otherGw.connect();
    const third = await otherGw.send(text(channelId, 'only once', nonce));
    expect(new Set([...twice, third].map((a) => a.id)).size).toBe(1);
    expect(new Set([...twice, third].map((a) => a.seq)).size).toBe(1);
    await sync(graceRec);
    expect(graceRec.withNonce(nonce)).toHaveLength(1);
    expect(adaRec.withNonce(nonce)).toHaveLength(1);
    otherGw.close();
  });

  it('resumes a new client from saved cursors with exactly what it missed', async () => {
    const { client: first, rec: firstRec } = gateway(grace);
    await first.connect();
    const before = await sync(firstRec);
    const saved = first.cursors();
    expect(saved.find((c) => c.channel_id === channelId)?.seq).toBeGreaterThanOrEqual(before.seq);
    first.close();
    const missed: MessageAck[] = [];
    for (let i = 0; i < 15; i++) missed.push(await adaGw.send(text(channelId, `missed ${i}`)));
    const { client: second, rec: secondRec } = gateway(grace, { cursors: saved });
    await second.connect();
    await expect.poll(() => secondRec.in(channelId).length, WAIT).toBeGreaterThanOrEqual(15);
    await sync(secondRec);
    expect(
      secondRec
        .in(channelId)
        .slice(0, 15)
        .map((m) => m.id),
    ).toEqual(missed.map((a) => a.id));
    expectOrderedOnce(secondRec.messages);
    second.close();
  });

  it('edits, reacts, types, reads, sets presence and deletes, with typed errors', async () => {
    const sent = await graceGw.send(text(channelId, 'to be edited'));
    await expect.poll(() => adaRec.messages.some((m) => m.id === sent.id), WAIT).toBe(true);

    const edited = await graceGw.edit(sent.id, b64('edited'));
    expect(edited).toMatchObject({ id: sent.id, ciphertext: b64('edited'), edited_at: expect.any(Number) });
    await expect
      .poll(() => adaRec.event('message.updated', (e) => (e.message as Message).id === sent.id), WAIT)
      .toBeDefined();

    await adaGw.react(sent.id, '👍');
    await expect
      .poll(() => graceRec.event('reaction.added', (e) => e.message_id === sent.id && e.user_id === adaId), WAIT)
      .toMatchObject({ emoji: '👍' });
    await adaGw.unreact(sent.id, '👍');
    await expect.poll(() => graceRec.event('reaction.removed', (e) => e.message_id === sent.id), WAIT).toBeDefined();

    await graceGw.typing(channelId);
    await expect
      .poll(() => adaRec.event('typing', (e) => e.user_id === graceId && e.channel_id === channelId), WAIT)
      .toMatchObject({ expires_in_ms: 10_000 });

    expect(await adaGw.markRead(channelId, sent.seq)).toEqual({ channel_id: channelId, seq: sent.seq });

    await graceGw.setPresence('dnd');
    await expect
      .poll(() => adaRec.event('presence', (e) => e.user_id === graceId && e.status === 'dnd'), WAIT)
      .toBeDefined();

    await graceGw.delete(sent.id);
    await expect
      .poll(() => adaRec.event('message.deleted', (e) => e.message_id === sent.id), WAIT)
      .toMatchObject({ deleted_by: graceId });

    const notMine = (await adaGw.edit(sent.id, b64('hijack')).catch((e: unknown) => e)) as ApiError;
    expect(notMine).toBeInstanceOf(ApiError);
    expect([notMine.code, notMine.status]).toEqual(['forbidden', 403]);
    const nowhere = (await adaGw.send(text('no-such-channel', 'x')).catch((e: unknown) => e)) as ApiError;
    expect([nowhere.code, nowhere.status]).toEqual(['not_found', 404]);
    const malformed = (await adaGw
      .send({ ...text(channelId, 'x'), ciphertext: 'not base64!' })
      .catch((e: unknown) => e)) as ApiError;
    expect(malformed.code).toBe('validation_error');
    // The socket is still good.
    await sync(graceRec);
  });

  it('renews the token on the open socket with auth.refresh', async () => {
    const expiresAt = await adaGw.refreshAuth();
    expect(expiresAt).toBeGreaterThan(Date.now() + 10 * 60_000);
    expect(adaGw.state).toBe('open');
    await sync(graceRec);
  });

  it('retries a refused token once with a fresh one, and stops when even that is refused', async () => {
    const requests: boolean[] = [];
    const { client: recovering, rec } = gateway(grace, {
      getAccessToken: async ({ fresh }) => {
        requests.push(fresh);
        return fresh ? grace.getAccessToken({ fresh: true }) : 'not-a-token';
      },
    });
    await recovering.connect();
    expect(requests).toEqual([false, true]);
    expect(rec.signedOut).toEqual([]);
    recovering.close();

    const { client: hopeless, rec: hopelessRec } = gateway(grace, { getAccessToken: async () => 'not-a-token' });
    await expect(hopeless.connect()).rejects.toMatchObject({ code: 'network_error' });
    expect(hopelessRec.signedOut).toHaveLength(1);
    expect(hopelessRec.signedOut[0]).toMatchObject({ reason: 'unauthorized', error: { code: 'invalid_token' } });
    expect(hopeless.state).toBe('closed');
  });

  it('says signed-out and stops when its session is signed out elsewhere', async () => {
    const device = new AuthClient({ baseUrl });
    await device.login({ ...GRACE, device_name: 'soon signed out' });
    const { client, rec } = gateway(device);
    await client.connect();
    await device.logout();
    await expect.poll(() => rec.signedOut, WAIT).toEqual([{ reason: 'session_revoked' }]);
    expect(client.state).toBe('closed');
    await expect(client.send(text(channelId, 'too late'))).rejects.toMatchObject({ code: 'network_error' });
    // Grace's other session is untouched.
    expect(graceGw.state).toBe('open');
    await sync(graceRec);
  });

  it('pages the history over REST when it missed more than the resume window', async () => {
    const { client: first, rec: firstRec } = gateway(grace);
    await first.connect();
    await sync(firstRec);
    const saved = first.cursors();
    first.close();

    // More than GATEWAY.resumeWindow (1000) messages, from 25 sockets at the gateway's 10/s each.
    const senders = Array.from({ length: 25 }, () => gateway(ada).client);
    await Promise.all(senders.map((s) => s.connect()));
    const sent = (
      await Promise.all(
        senders.map((s, k) =>
          Promise.all(Array.from({ length: 42 }, (_, i) => s.send(text(channelId, `flood ${k}-${i}`)))),
        ),
      )
    ).flat();
    expect(sent).toHaveLength(1050);
    for (const s of senders) s.close();

    const readsBefore = historyReads;
    const { client: back, rec: backRec } = gateway(grace, { cursors: saved });
    await back.connect();
    await expect.poll(() => sent.every((a) => backRec.messages.some((m) => m.id === a.id)), WAIT).toBe(true);
    await sync(backRec);
    // 1050 missed: paged 100 at a time (resume.gap), then live again.
    expect(historyReads - readsBefore).toBeGreaterThanOrEqual(11);
    const seqs = backRec.in(channelId).map((m) => m.seq);
    const start = saved.find((c) => c.channel_id === channelId)!.seq;
    expect(seqs).toEqual(seqs.map((_, i) => start + 1 + i));
    expectOrderedOnce(backRec.messages);
    // The members who were online throughout got the concurrent flood live, once and in order.
    await sync(adaRec);
    for (const rec of [adaRec, graceRec]) {
      expect(sent.every((a) => rec.messages.some((m) => m.id === a.id))).toBe(true);
      expectOrderedOnce(rec.messages);
    }
    back.close();
  }, 180_000);

  it('reads history through the SDK’s MessagesApi', async () => {
    const page = await ada.messages.history(channelId, { after: 0, limit: 5 });
    expect(page.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(page.has_more).toBe(true);
    const tail = await ada.messages.history(channelId, { before: 3 });
    expect(tail.messages.map((m) => m.seq)).toEqual([1, 2]);
    await expect(ada.messages.after('no-such-channel', 0)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('reported no stray errors', () => {
    expect([...adaRec.errors, ...graceRec.errors]).toEqual([]);
  });
});

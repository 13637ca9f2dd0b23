import type { Socket } from 'node:net';
import { CLOSE_CODES, GATEWAY, LIMITS } from '@chatalot/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { listen, received, sendMessages, sleep } from '../test-support/gateway-load.js';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { TestSocket } from '../test-support/ws-client.js';
import { Connection } from './connection.js';

/** The client's TCP socket under the WebSocket: pausing it stops reading, as a stuck client would. */
const tcp = (socket: TestSocket) => (socket.ws as unknown as { _socket: Socket })._socket;

/** The server's side of a client socket (matched by port), while the server still tracks it. */
const serverSide = (t: TestApp, socket: TestSocket) =>
  [...t.app.websocketServer.clients].find(
    (ws) => (ws as unknown as { _socket: Socket })._socket.remotePort === tcp(socket).localPort,
  );

/** A ciphertext of just under the 64 KiB limit: its event is about 87 KB of JSON. */
const bigBody = (i: number) => {
  const bytes = Buffer.alloc(LIMITS.messageCiphertextBytes - 16, i % 251);
  bytes.write(`big message ${i}`);
  return bytes.toString('base64');
};

type Timings = { -readonly [K in keyof typeof GATEWAY]: number };

describe.each(DIALECTS)('Gateway limits on %s', (dialect) => {
  let open: TestSocket[] = [];
  const track = (socket: TestSocket) => {
    open.push(socket);
    return socket;
  };
  const signIn = async (url: string, world: SpacesWorld, user: keyof SpacesWorld['users']) =>
    track(await TestSocket.signedIn(url, world.users[user].auth.authorization));

  afterEach(async () => {
    vi.restoreAllMocks();
    for (const socket of open) {
      tcp(socket).resume();
      socket.ws.terminate();
    }
    await Promise.all(open.map((s) => s.closed));
    open = [];
  });

  describe('a client that stops reading', () => {
    let t: TestApp;
    let url: string;
    beforeAll(async () => {
      t = await createTestApp(dialect);
      url = (await listen(t)).wsUrl;
    });
    afterAll(async () => {
      await t.close();
    });

    it('is closed by the server once 1 MiB waits unsent, and the others’ delivery completes', async () => {
      const world = await buildSpacesWorld(t, 'slow');
      const channel = world.a.publicChannel;
      const closes = vi.spyOn(Connection.prototype, 'close');
      const stuck = await signIn(url, world, 'member');
      const reader = await signIn(url, world, 'groupMember');
      const senders: TestSocket[] = [];
      for (let i = 0; i < 6; i++) senders.push(await signIn(url, world, i % 2 ? 'moderator' : 'admin'));
      const stuckServerSide = serverSide(t, stuck);
      expect(stuckServerSide).toBeDefined();

      tcp(stuck).pause();
      const slowClose = () =>
        closes.mock.calls.findIndex(
          ([code], i) =>
            code === CLOSE_CODES.slowConsumer &&
            (closes.mock.contexts[i] as Connection).userId === world.users.member.id,
        ) >= 0;

      // Big messages until the server gives up on the stuck socket (kernel buffers on both ends
      // absorb a few MB first), then some more: the reader must get every one of them. The
      // reader and the senders share this process with the server and read only between its
      // turns, so on a busy machine they would (rightly) be closed as slow consumers too if
      // sent more than they can take: each round is one message per sender (about 0.5 MB per
      // socket) and the next waits until every socket that reads has received it.
      const sent: { id: string; seq: number }[] = [];
      const round = async (tag: string) => {
        const acks = await sendMessages(senders, channel, senders.length, { tag, body: bigBody });
        const last = Math.max(...acks.map((m) => m.seq));
        for (const socket of [reader, ...senders]) {
          await received(socket, (f) => f.type === 'message.created' && f.seq === last);
        }
        return acks;
      };
      for (let i = 0; i < 200 && !slowClose(); i++) sent.push(...(await round(`big${i}`)));
      expect(slowClose()).toBe(true);
      for (let i = 0; i < 5; i++) sent.push(...(await round(`after${i}`)));
      const closedUsers = closes.mock.calls.map((_, i) => (closes.mock.contexts[i] as Connection).userId);
      expect(closedUsers).toEqual([world.users.member.id]);

      // The server let go of the socket: closed with 4008 (the close frame cannot get through a
      // socket nobody reads, so it is terminated shortly after) and no longer tracked.
      const closedServerSide = new Promise<void>((resolve) => {
        if (stuckServerSide!.readyState === stuckServerSide!.CLOSED) resolve();
        stuckServerSide!.once('close', () => resolve());
      });
      await closedServerSide;
      expect(serverSide(t, stuck)).toBeUndefined();

      // The reader got everything, in order, once.
      const last = Math.max(...sent.map((m) => m.seq));
      await received(reader, (f) => f.type === 'message.created' && f.seq === last, 30_000);
      const got = reader.messages(channel).map((f) => ({ id: (f.message as { id: string }).id, seq: f.seq as number }));
      const first = Math.min(...sent.map((m) => m.seq));
      expect(got.filter((m) => m.seq >= first)).toEqual(
        [...sent].sort((a, b) => a.seq - b.seq).map(({ id, seq }) => ({ id, seq })),
      );
      expect(reader.ws.readyState).toBe(reader.ws.OPEN);

      // Once the stuck client reads again, it drains what reached it and learns it was closed.
      tcp(stuck).resume();
      const { code } = await stuck.closed;
      expect([CLOSE_CODES.slowConsumer, 1006]).toContain(code);
      const stuckSeqs = stuck.messages(channel).map((f) => f.seq as number);
      expect(stuckSeqs.length).toBeLessThan(sent.length);
      expect(stuckSeqs).toEqual(stuckSeqs.map((_, i) => stuckSeqs[0]! + i));
    });
  });

  describe('heartbeat, with the timings shortened for the test', () => {
    const timings = GATEWAY as Timings;
    const saved = { heartbeatMs: timings.heartbeatMs, deadAfterMs: timings.deadAfterMs };
    let t: TestApp;
    let url: string;
    beforeAll(async () => {
      // The heartbeat interval is read when the gateway starts, the dead-after limit on each beat.
      timings.heartbeatMs = 100;
      timings.deadAfterMs = 1500;
      t = await createTestApp(dialect);
      url = (await listen(t)).wsUrl;
    });
    afterAll(async () => {
      await t.close();
      Object.assign(timings, saved);
    });

    it('reaps a socket that stopped answering pings, and keeps the ones that answer', async () => {
      const world = await buildSpacesWorld(t, 'beat');
      const watcher = await signIn(url, world, 'groupMember');
      const dead = await signIn(url, world, 'member');
      const alive = await signIn(url, world, 'moderator');
      const deadServerSide = serverSide(t, dead)!;
      await received(watcher, (f) => f.type === 'presence' && f.user_id === world.users.member.id);
      const pings = { alive: 0 };
      alive.ws.on('ping', () => pings.alive++);

      tcp(dead).pause();
      await new Promise<void>((resolve) => deadServerSide.once('close', () => resolve()));
      // The server terminated it (no closing handshake) and everyone sees the user go offline.
      expect(serverSide(t, dead)).toBeUndefined();
      const offline = await received(
        watcher,
        (f) => f.type === 'presence' && f.user_id === world.users.member.id && f.status === 'offline',
      );
      expect(offline.status).toBe('offline');

      // The answering socket was pinged all along and is still served.
      while (pings.alive < 20) await sleep(50);
      expect(alive.ws.readyState).toBe(alive.ws.OPEN);
      expect(serverSide(t, alive)).toBeDefined();
      const [ack] = await sendMessages([alive], world.a.publicChannel, 1, { tag: 'alive' });
      await received(watcher, (f) => f.type === 'message.created' && f.seq === ack!.seq);
      tcp(dead).resume();
      expect((await dead.closed).code).toBe(1006);
    });
  });
});

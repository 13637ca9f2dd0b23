import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLOSE_CODES } from '@chatalot/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateVapidKeys } from '../src/secrets.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../src/test-support/services.js';
import { createTestDatabase, type TestDatabase } from '../src/test-support/test-db.js';
import { ciphertext, type Frame, SENDER_KEY, type TestSocket } from '../src/test-support/ws-client.js';
import {
  type AckData,
  api,
  buildChatWorld,
  type ChatWorld,
  connect,
  dumpOutputs,
  MessageSender,
  type ServerProcess,
  startServerProcess,
  stopAll,
  tryConnect,
} from './real-server.js';

/**
 * Two real server processes on one PostgreSQL database and one Redis: messages, typing,
 * presence, kicks and the per-user socket limit work across them. Skipped without both
 * services (CHATALOT_REQUIRE_SERVICES=1 turns the skip into a failure, in services.ts).
 */
const MAX_SOCKETS = 2;

describe.skipIf(!TEST_DATABASE_URL || !TEST_REDIS_URL)('two server processes sharing PostgreSQL and Redis', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'chatalot-scale-out-'));
  let db: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  let world: ChatWorld;
  const sockets: TestSocket[] = [];
  let alice: TestSocket;
  let bob: TestSocket;
  let carol: TestSocket;
  const open = async (server: ServerProcess, name: string) => {
    const socket = await connect(server, world.members[name]!);
    sockets.push(socket);
    return socket;
  };
  const isMessage = (channelId: string, seq?: number) => (f: Frame) =>
    f.type === 'message.created' && f.channel_id === channelId && (seq === undefined || f.seq === seq);
  /** A ping answered on this socket: every frame the server wrote to it before has arrived. */
  const flush = async (socket: TestSocket) => {
    const ref = `flush-${Math.random().toString(36).slice(2)}`;
    socket.send({ op: 'ping', ref });
    await socket.next((f) => f.type === 'pong' && f.ref === ref);
  };

  beforeEach(({ onTestFailed }) => onTestFailed(() => dumpOutputs()));

  beforeAll(async () => {
    // One set of secrets for both processes: a token signed by A must verify on B.
    const secrets = mkdtempSync(path.join(root, 'secrets-'));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(path.join(secrets, 'jwt_private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    writeFileSync(path.join(secrets, 'jwt_public.pem'), publicKey.export({ type: 'spki', format: 'pem' }), {
      mode: 0o600,
    });
    const vapid = generateVapidKeys();
    db = await createTestDatabase('postgres', { migrate: false });
    if (db.config.kind !== 'postgres') throw new Error('expected PostgreSQL');
    const shared = {
      DATABASE_URL: db.config.url,
      REDIS_URL: TEST_REDIS_URL!,
      JWT_PRIVATE_KEY_PATH: path.join(secrets, 'jwt_private.pem'),
      JWT_PUBLIC_KEY_PATH: path.join(secrets, 'jwt_public.pem'),
      TOTP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      MAX_SOCKETS_PER_USER: String(MAX_SOCKETS),
    };
    try {
      // Both start at once on the empty database: the migration lock keeps that safe.
      [a, b] = await Promise.all([
        startServerProcess('A', { ...shared, DATA_DIR: path.join(root, 'a') }),
        startServerProcess('B', { ...shared, DATA_DIR: path.join(root, 'b') }),
      ]);
      expect(a.url).not.toBe(b.url);
      // Registered on A, joined through B: B accepts A's tokens.
      world = await buildChatWorld(a, ['alice', 'bob', 'carol', 'dave'], b);
    } catch (err) {
      dumpOutputs();
      throw err;
    }
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    await stopAll();
    await db?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('delivers each side’s messages to the other process, in seq order, gap-free, once', async () => {
    const { channelId } = world;
    alice = await open(a, 'alice');
    bob = await open(b, 'bob');
    carol = await open(b, 'carol');
    const aliceSender = new MessageSender(alice, channelId);
    const bobSender = new MessageSender(bob, channelId);
    const nonces = (who: string) =>
      Array.from({ length: 25 }, (_, i) => `${who}-${i}-${randomBytes(6).toString('hex')}`);
    const [fromAlice, fromBob] = await Promise.all(
      [[aliceSender, nonces('alice')] as const, [bobSender, nonces('bob')] as const].map(([sender, list]) =>
        Promise.all(list.map((n) => sender.send(n))),
      ),
    );
    const acks = [...fromAlice!, ...fromBob!].map((f) => {
      expect(f).toMatchObject({ type: 'ack', op: 'message.send' });
      return f!.data as AckData;
    });
    const seqs = acks.map((ack) => ack.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const idOf = new Map(acks.map((ack) => [ack.seq, ack.id]));

    for (const socket of [alice, bob, carol]) {
      await socket.next(isMessage(channelId, 50), 15_000);
      const got = socket.messages(channelId);
      expect(got.map((f) => f.seq)).toEqual(seqs);
      for (const f of got) expect((f.message as { id: string }).id).toBe(idOf.get(f.seq as number));
    }
    // Alice (A) has every one of Bob's (B), and the other way round.
    const senderOf = (f: Frame) => (f.message as { sender_id: string }).sender_id;
    expect(alice.messages(channelId).filter((f) => senderOf(f) === world.members.bob!.id)).toHaveLength(25);
    expect(bob.messages(channelId).filter((f) => senderOf(f) === world.members.alice!.id)).toHaveLength(25);
  });

  it('shares typing with a socket on the other process', async () => {
    const answer = await alice.request({ op: 'typing', channel_id: world.channelId });
    expect(answer).toMatchObject({ type: 'ack' });
    const typing = await bob.next((f) => f.type === 'typing' && f.user_id === world.members.alice!.id);
    expect(typing).toMatchObject({ channel_id: world.channelId, expires_in_ms: 10_000 });
  });

  it('shows presence across processes: online on connect, offline when the last socket closes', async () => {
    const daveId = world.members.dave!.id;
    const dave = await open(a, 'dave');
    expect(await bob.next((f) => f.type === 'presence' && f.user_id === daveId)).toMatchObject({ status: 'online' });
    dave.close();
    await dave.closed;
    expect(await bob.next((f) => f.type === 'presence' && f.user_id === daveId)).toMatchObject({
      status: 'offline',
    });
  });

  it('stops delivery on B to a member kicked through A’s REST API', async () => {
    const { channelId } = world;
    const carolId = world.members.carol!.id;
    await api(a, 'DELETE', `/api/communities/${world.communityId}/members/${carolId}`, { token: world.owner.token });
    await carol.next((f) => f.type === 'member.kicked');

    const ack = await alice.request({
      op: 'message.send',
      channel_id: channelId,
      nonce: `after-kick-${randomBytes(6).toString('hex')}`,
      ciphertext: ciphertext('after the kick'),
      encryption: SENDER_KEY,
    });
    expect(ack).toMatchObject({ type: 'ack' });
    const { seq } = ack.data as AckData;
    await bob.next(isMessage(channelId, seq));
    await flush(carol);
    expect(carol.messages(channelId).map((f) => f.seq)).not.toContain(seq);
    expect(carol.messages(channelId).every((f) => (f.seq as number) < seq)).toBe(true);

    const refused = await new MessageSender(carol, channelId).send(`carol-${randomBytes(6).toString('hex')}`);
    expect(refused).toMatchObject({ type: 'error', code: 'not_found' });
  });

  it(`holds MAX_SOCKETS_PER_USER=${MAX_SOCKETS} across both processes`, async () => {
    const dave = world.members.dave!;
    const onA = await open(a, 'dave');
    await open(b, 'dave');
    for (const server of [a, b]) {
      const extra = await tryConnect(server, dave);
      sockets.push(extra.socket);
      expect(extra.ready, `a third socket on ${server.name}`).toBeNull();
      expect(extra.closed?.code).toBe(CLOSE_CODES.tooManySockets);
    }
    // Closing the socket on A frees a slot, which a socket on B can take (once A has counted
    // the close in Redis).
    onA.close();
    await onA.closed;
    let replacement: TestSocket | null = null;
    for (let attempt = 0; attempt < 50 && !replacement; attempt++) {
      const tried = await tryConnect(b, dave);
      sockets.push(tried.socket);
      if (tried.ready) replacement = tried.socket;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(replacement).not.toBeNull();
    const again = await tryConnect(a, dave);
    sockets.push(again.socket);
    expect(again.closed?.code).toBe(CLOSE_CODES.tooManySockets);
  });
});

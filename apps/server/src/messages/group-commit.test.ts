import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvents } from '../groups/test-helpers.js';
import { topics } from '../spaces/events.js';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { GroupCommit, NonceInFlight } from './group-commit.js';
import type { NewMessage } from './repo.js';
import { messaging, nonce, range, text } from './test-helpers.js';

describe.each(DIALECTS)('group commit of sent messages on %s', (dialect) => {
  let t: TestApp;
  let world: SpacesWorld;
  let m: ReturnType<typeof messaging>;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    world = await buildSpacesWorld(t, 'gc');
    m = messaging(t);
  });
  afterAll(() => t.close());

  const db = () => t.db.database.db;
  const message = (channelId: string, senderId: string, overrides: Partial<NewMessage> = {}): NewMessage => ({
    id: randomUUID(),
    channel_id: channelId,
    sender_id: senderId,
    nonce: nonce('gc'),
    ciphertext: text('hi'),
    scheme: 'sender_key',
    distribution_id: null,
    device_id: null,
    reply_to: null,
    thread_root: null,
    forwarded_from: null,
    mentions: [],
    mention_everyone: false,
    created_at: Date.now(),
    expires_at: null,
    ...overrides,
  });
  const rowsOf = (channelId: string) =>
    db()
      .selectFrom('messages')
      .select(['id', 'nonce', 'seq'])
      .where('channel_id', '=', channelId)
      .orderBy('seq')
      .execute()
      .then((rows) => rows.map((r) => ({ ...r, seq: Number(r.seq) })));
  const lastSeq = async (channelId: string) =>
    Number(
      (await db().selectFrom('channels').select('last_seq').where('id', '=', channelId).executeTakeFirstOrThrow())
        .last_seq,
    );

  it('acks every one of many sends made at once, each message once, seqs gap-free in ack order', async () => {
    const channel = await m.channel(world);
    const events = await recordEvents(t, topics.channel(channel));
    const senders = [world.users.member, world.users.groupMember, world.users.moderator, world.users.owner];
    const nonces = range(1, 40).map((i) => nonce(`burst${i}`));
    // All posted in the same tick: they reach the store together.
    const responses = await Promise.all(
      nonces.map((n, i) =>
        m.call(senders[i % senders.length]!, 'POST', `/api/channels/${channel}/messages`, {
          nonce: n,
          ciphertext: text(`burst ${i}`),
          encryption: { scheme: 'sender_key' },
        }),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(nonces.map(() => 201));
    const acks = responses.map((r) => r.json() as { id: string; nonce: string; seq: number });
    expect(acks.map((a) => a.nonce)).toEqual(nonces);
    expect(acks.map((a) => a.seq).sort((a, b) => a - b)).toEqual(range(1, 40));

    const rows = await rowsOf(channel);
    expect(rows.map((r) => r.seq)).toEqual(range(1, 40));
    expect(new Map(rows.map((r) => [r.nonce, r.id]))).toEqual(new Map(acks.map((a) => [a.nonce, a.id])));
    expect(await lastSeq(channel)).toBe(40);

    await events.stop();
    const published = events.seen.map((s) => s.event as { type: string; seq: number });
    expect(published.map((e) => e.type)).toEqual(nonces.map(() => 'message.created'));
    expect(published.map((e) => e.seq).sort((a, b) => a - b)).toEqual(range(1, 40));
  });

  it('fails only the send that cannot be inserted; the others commit with consecutive seqs', async () => {
    const channel = await m.channel(world);
    const store = new GroupCommit(db());
    const taken = await store.insert(message(channel, world.users.member.id));
    expect(taken).toBe(1);
    const [existing] = await rowsOf(channel);

    const good = range(1, 6).map(() => message(channel, world.users.groupMember.id));
    const results = await Promise.allSettled([
      store.insert(good[0]!),
      store.insert(good[1]!),
      // A nonce this sender already used (committed by another process, say): a unique violation.
      store.insert(message(channel, world.users.member.id, { nonce: existing!.nonce })),
      store.insert(good[2]!),
      // A channel deleted after the permission check.
      store.insert(message(randomUUID(), world.users.member.id)),
      store.insert(good[3]!),
      store.insert(good[4]!),
      store.insert(good[5]!),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    const seqs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(seqs).toEqual(range(2, 7));
    const rows = await rowsOf(channel);
    expect(rows.map((r) => r.seq)).toEqual(range(1, 7));
    expect(rows.slice(1).map((r) => r.id)).toEqual(good.map((g) => g.id));
    expect(await lastSeq(channel)).toBe(7);
  });

  it('commits one of two sends with the same sender and nonce; the other learns it was a retry', async () => {
    const channel = await m.channel(world);
    const store = new GroupCommit(db());
    const first = message(channel, world.users.member.id);
    const again = message(channel, world.users.member.id, { nonce: first.nonce });
    const [a, b, c] = await Promise.allSettled([
      store.insert(first),
      store.insert(again),
      store.insert(message(channel, world.users.member.id)),
    ]);
    expect(a).toEqual({ status: 'fulfilled', value: 1 });
    expect(b.status === 'rejected' && b.reason).toBeInstanceOf(NonceInFlight);
    expect(c).toEqual({ status: 'fulfilled', value: 2 });
    expect((await rowsOf(channel)).map((r) => [r.id, r.seq])).toEqual([
      [first.id, 1],
      [expect.any(String), 2],
    ]);
  });

  it('orders messages of several channels per channel and keeps the channels apart', async () => {
    const one = await m.channel(world);
    const two = await m.channel(world);
    const store = new GroupCommit(db());
    const batch = range(1, 10).map((i) => message(i % 2 ? one : two, world.users.member.id));
    const seqs = await Promise.all(batch.map((b) => store.insert(b)));
    expect(seqs).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    expect((await rowsOf(one)).map((r) => r.id)).toEqual(batch.filter((_, i) => i % 2 === 0).map((b) => b.id));
    expect((await rowsOf(two)).map((r) => r.id)).toEqual(batch.filter((_, i) => i % 2 === 1).map((b) => b.id));
  });

  // Only PostgreSQL shows which transaction wrote a row (xmin); on SQLite the test is not
  // registered at all rather than reported as skipped.
  if (dialect === 'postgres') {
    it('commits the sends of one tick in a single transaction', async () => {
      const channel = await m.channel(world);
      const store = new GroupCommit(db());
      await Promise.all(range(1, 8).map(() => store.insert(message(channel, world.users.member.id))));
      // xmin: the id of the transaction that wrote the row.
      const { rows } = await sql<{
        xid: string;
      }>`select xmin::text as xid from messages where channel_id = ${channel}`.execute(db());
      expect(rows).toHaveLength(8);
      expect(new Set(rows.map((r) => r.xid)).size).toBe(1);
    });
  }
});

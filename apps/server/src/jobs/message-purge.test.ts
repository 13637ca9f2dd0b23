import { randomUUID } from 'node:crypto';
import { MESSAGE_LIMITS } from '@chatalot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertMessage } from '../messages/repo.js';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { purgeMessages, startMessagePurge } from './message-purge.js';

const DAY = 24 * 60 * 60 * 1000;

describe.each(DIALECTS)('message purge on %s', (dialect) => {
  let t: TestApp;
  let world: SpacesWorld;
  const now = Date.UTC(2026, 5, 1);

  beforeAll(async () => {
    t = await createTestApp(dialect);
    world = await buildSpacesWorld(t, 'purge');
  });
  afterAll(() => t.close());

  /** A message in A's public channel with the given deletion/expiry times. */
  const insert = async (when: { deleted_at?: number; expires_at?: number }, extras = false) => {
    const db = t.db.database.db;
    const id = randomUUID();
    await db.transaction().execute((trx) =>
      insertMessage(trx, {
        id,
        channel_id: world.a.publicChannel,
        sender_id: world.users.member.id,
        nonce: `purge-${id}`,
        ciphertext: 'AAAA',
        scheme: 'sender_key',
        distribution_id: null,
        device_id: null,
        reply_to: null,
        thread_root: null,
        forwarded_from: null,
        mentions: [],
        mention_everyone: false,
        created_at: now - 40 * DAY,
        expires_at: when.expires_at ?? null,
      }),
    );
    if (when.deleted_at !== undefined) {
      await db
        .updateTable('messages')
        .set({ deleted_at: when.deleted_at, ciphertext: '' })
        .where('id', '=', id)
        .execute();
    }
    if (extras) {
      await db
        .insertInto('message_reactions')
        .values({ message_id: id, user_id: world.users.groupMember.id, emoji: '👍', created_at: now })
        .execute();
      await db
        .insertInto('message_versions')
        .values({ message_id: id, version: 0, ciphertext: 'AAAA', created_at: now })
        .execute();
    }
    return id;
  };

  it('removes messages deleted over 30 days ago and disappeared ones, in batches, and nothing else', async () => {
    const db = t.db.database.db;
    const purge: string[] = [
      ...(await Promise.all(
        Array.from({ length: 5 }, () => insert({ deleted_at: now - MESSAGE_LIMITS.purgeAfterMs - 1 })),
      )),
      await insert({ deleted_at: now - 90 * DAY }),
      await insert({ expires_at: now - 1 }, true),
      await insert({ expires_at: now }, true),
    ];
    const keep: string[] = [
      await insert({ deleted_at: now - MESSAGE_LIMITS.purgeAfterMs }),
      await insert({ deleted_at: now - 29 * DAY }),
      await insert({ expires_at: now + 1 }, true),
      await insert({}, true),
    ];
    const before = await db.selectFrom('messages').select('id').execute();

    // Two processes at once: every row goes exactly once.
    const counts = await Promise.all([
      purgeMessages(db, { now, batchSize: 2 }),
      purgeMessages(db, { now, batchSize: 2 }),
    ]);
    expect(counts[0] + counts[1]).toBe(purge.length);

    const after = (await db.selectFrom('messages').select('id').execute()).map((r) => r.id);
    expect(after.sort()).toEqual(
      before
        .map((r) => r.id)
        .filter((id) => !purge.includes(id))
        .sort(),
    );
    expect(after).toEqual(expect.arrayContaining([...keep, world.a.publicMessage, world.dmMessage]));
    const orphans = await db
      .selectFrom('message_reactions')
      .select('message_id')
      .where('message_id', 'in', purge)
      .unionAll(db.selectFrom('message_versions').select('message_id').where('message_id', 'in', purge))
      .execute();
    expect(orphans).toEqual([]);
    const kept = await db
      .selectFrom('message_reactions')
      .select('message_id')
      .where('message_id', 'in', keep)
      .execute();
    expect(kept).toHaveLength(2);
    // The channel's counter is untouched: seqs are never handed out again.
    const channel = await db
      .selectFrom('channels')
      .select('last_seq')
      .where('id', '=', world.a.publicChannel)
      .executeTakeFirstOrThrow();
    expect(Number(channel.last_seq)).toBe(1 + purge.length + keep.length);

    expect(await purgeMessages(db, { now })).toBe(0);
  });

  it('runs from the periodic job until stopped', async () => {
    const db = t.db.database.db;
    const id = await insert({ expires_at: now - 1 });
    const errors: unknown[] = [];
    const stop = startMessagePurge(
      db,
      (err) => errors.push(err),
      () => now,
    );
    await stop();
    expect(errors).toEqual([]);
    expect(await db.selectFrom('messages').select('id').where('id', '=', id).execute()).toEqual([]);
  });
});

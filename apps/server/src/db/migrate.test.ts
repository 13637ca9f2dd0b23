import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, type TestDatabase, createTestDatabase } from '../test-support/test-db.js';
import { migrateToLatest, migrateUpTo, migrationNames } from './migrate.js';

describe.each(DIALECTS)('migrations on %s', (dialect) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(dialect, { migrate: false });
  });
  afterAll(async () => {
    await t.drop();
  });

  it('runs every migration on an empty database, then nothing the second time', async () => {
    expect(await migrateToLatest(t.database)).toEqual(migrationNames());
    expect(await migrateToLatest(t.database)).toEqual([]);
  });

  it('creates tables that store and return rows with millisecond timestamps as numbers', async () => {
    const now = Date.now();
    await t.database.db
      .insertInto('instance_settings')
      .values({ key: 'k', value: '{"a":1}', updated_at: now })
      .execute();
    const row = await t.database.db
      .selectFrom('instance_settings')
      .selectAll()
      .where('key', '=', 'k')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ key: 'k', value: '{"a":1}', updated_at: now });
  });

  it('answers ping while open and not after close', async () => {
    expect(await t.database.ping()).toBe(true);
  });
});

describe('SQLite durability settings', () => {
  it('uses WAL, synchronous=FULL, foreign keys and a busy timeout', async () => {
    const t = await createTestDatabase('sqlite');
    try {
      const pragma = async (name: string) =>
        Object.values((await sql.raw(`PRAGMA ${name}`).execute(t.database.db)).rows[0] as object)[0];
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('synchronous')).toBe(2); // FULL
      expect(await pragma('foreign_keys')).toBe(1);
      expect(await pragma('busy_timeout')).toBe(5000);
    } finally {
      await t.drop();
    }
  });

  it('reports the database as down once it is closed', async () => {
    const t = await createTestDatabase('sqlite');
    await t.database.close();
    expect(await t.database.ping()).toBe(false);
  });
});

describe('partial message indexes', () => {
  it('serve the thread, expiry and deletion lookups on SQLite while holding only rows that have a value', async () => {
    const t = await createTestDatabase('sqlite');
    try {
      const plan = async (query: string) =>
        (await sql.raw(`EXPLAIN QUERY PLAN ${query}`).execute(t.database.db)).rows
          .map((r) => (r as { detail: string }).detail)
          .join('\n');
      expect(await plan(`select * from messages where thread_root = 'x' and seq > 3 order by seq`)).toContain(
        'messages_thread_root',
      );
      const purge = await plan(`select id from messages where deleted_at < 5 or expires_at <= 5`);
      expect(purge).toContain('messages_deleted_at');
      expect(purge).toContain('messages_expires_at');
      const definitions = (
        await sql<{
          sql: string;
        }>`select sql from sqlite_master where name like 'messages_%_at' or name = 'messages_thread_root'`.execute(
          t.database.db,
        )
      ).rows.map((r) => r.sql);
      expect(definitions).toHaveLength(3);
      for (const definition of definitions) expect(definition).toMatch(/where "\w+" is not null$/);
    } finally {
      await t.drop();
    }
  });
});

describe.each(DIALECTS)('migration 0009 on %s', (dialect) => {
  it('counts the reactions each message already had', async () => {
    const t = await createTestDatabase(dialect, { migrate: false });
    try {
      await migrateUpTo(t.database, '0008-partial-message-indexes');
      const db = t.database.db;
      // Rows only: the users and channels they point to are beside the point here.
      if (dialect === 'sqlite') await sql`PRAGMA foreign_keys = OFF`.execute(db);
      await db.transaction().execute(async (trx) => {
        if (dialect === 'postgres') await sql`SET LOCAL session_replication_role = replica`.execute(trx);
        for (const [seq, id] of ['m1', 'm2', 'm3'].entries()) {
          await sql`INSERT INTO messages (id, channel_id, seq, nonce, ciphertext, scheme, created_at)
            VALUES (${id}, 'c', ${seq + 1}, ${id}, 'AA==', 'sender_key', 1)`.execute(trx);
        }
        for (const [message, user, emoji] of [
          ['m1', 'u1', '👍'],
          ['m1', 'u2', '👍'],
          ['m1', 'u1', '🎉'],
          ['m3', 'u2', '👀'],
        ]) {
          await sql`INSERT INTO message_reactions (message_id, user_id, emoji, created_at)
            VALUES (${message}, ${user}, ${emoji}, 1)`.execute(trx);
        }
      });
      expect(await migrateUpTo(t.database, '0009-message-reaction-counts')).toEqual(['0009-message-reaction-counts']);
      const counts = await db.selectFrom('messages').select(['id', 'reaction_count']).orderBy('id').execute();
      expect(counts.map((c) => [c.id, Number(c.reaction_count)])).toEqual([
        ['m1', 3],
        ['m2', 0],
        ['m3', 1],
      ]);
    } finally {
      await t.drop();
    }
  });
});

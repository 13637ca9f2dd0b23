import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, type TestDatabase, createTestDatabase } from '../test-support/test-db.js';
import { migrateToLatest, migrationNames } from './migrate.js';

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

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

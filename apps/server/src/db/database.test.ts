import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, createTestDatabase } from '../test-support/test-db.js';

describe('SQLite rows', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    await t.database.db
      .insertInto('instance_settings')
      .values([
        { key: 'rows.a', value: '"x"', updated_at: 1 },
        { key: 'rows.b', value: '"y"', updated_at: 2 },
      ])
      .execute();
  });
  afterAll(async () => {
    await t.drop();
  });

  it('come back as objects keyed by column name, numbers as numbers, nulls as null', async () => {
    const rows = await sql<{ key: string; n: number; empty: null }>`
      select key, updated_at as n, null as empty from instance_settings where key like 'rows.%' order by key`.execute(
      t.database.db,
    );
    expect(rows.rows).toEqual([
      { key: 'rows.a', n: 1, empty: null },
      { key: 'rows.b', n: 2, empty: null },
    ]);
  });

  it('keep a later column of the same name, and an odd alias as a plain own property', async () => {
    const { rows } = await sql<Record<string, unknown>>`
      select 1 as "v", 2 as "v", 'p' as "__proto__", 'q' as "a""b" from instance_settings where key = 'rows.a'`.execute(
      t.database.db,
    );
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.v).toBe(2);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('p');
    expect(row['a"b']).toBe('q');
  });

  it('answers writes with their counts', async () => {
    const result = await t.database.db
      .updateTable('instance_settings')
      .set({ updated_at: 5 })
      .where('key', 'like', 'rows.%')
      .executeTakeFirst();
    expect(Number(result.numUpdatedRows)).toBe(2);
  });
});

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, type TestDatabase, createTestDatabase } from '../test-support/test-db.js';
import { PreparedQuery, Variants } from './prepared.js';

const BY_KEY = new PreparedQuery((db, p: { key: string }) =>
  db.selectFrom('instance_settings').select(['key', 'value']).where('key', '=', p.key),
);

describe.each(DIALECTS)('prepared queries on %s', (dialect) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    await t.database.db
      .insertInto('instance_settings')
      .values([
        { key: 'prepared.a', value: '"one"', updated_at: 1 },
        { key: 'prepared.b', value: '"two"', updated_at: 2 },
        { key: 'prepared.c', value: '"three"', updated_at: 3 },
      ])
      .execute();
  });
  afterAll(async () => {
    await t.drop();
  });

  it('answers each call with its own values, like the query built afresh', async () => {
    const db = t.database.db;
    for (const key of ['prepared.a', 'prepared.b', 'prepared.missing']) {
      const built = await db.selectFrom('instance_settings').select(['key', 'value']).where('key', '=', key).execute();
      expect(await BY_KEY.execute(db, { key })).toEqual(built);
    }
    expect(await BY_KEY.first(db, { key: 'prepared.c' })).toEqual({ key: 'prepared.c', value: '"three"' });
  });

  it('runs inside a transaction and sees its uncommitted writes', async () => {
    await t.database.db.transaction().execute(async (trx) => {
      await trx.insertInto('instance_settings').values({ key: 'prepared.t', value: '1', updated_at: 9 }).execute();
      expect(await BY_KEY.first(trx, { key: 'prepared.t' })).toEqual({ key: 'prepared.t', value: '1' });
    });
  });

  it('keeps constants written in the builder and passes every use of a placeholder', async () => {
    const between = new PreparedQuery((db, p: { from: number }) =>
      db
        .selectFrom('instance_settings')
        .select('key')
        .where('key', 'like', 'prepared.%')
        .where('updated_at', '>=', p.from)
        .where('updated_at', '<', 3)
        .orderBy('key'),
    );
    expect(await between.execute(t.database.db, { from: 1 })).toEqual([{ key: 'prepared.a' }, { key: 'prepared.b' }]);
    expect(await between.execute(t.database.db, { from: 2 })).toEqual([{ key: 'prepared.b' }]);
  });

  it('compiles one query per shape in a family', async () => {
    const shapes: number[] = [];
    const byCount = new Variants((count: number) => {
      shapes.push(count);
      return new PreparedQuery((db, p: Record<string, string>) =>
        db
          .selectFrom('instance_settings')
          .select('key')
          .where(
            'key',
            'in',
            Array.from({ length: count }, (_, i) => p[String(i)]!),
          )
          .orderBy('key'),
      );
    });
    const run = (keys: string[]) =>
      byCount.of(keys.length).execute(t.database.db, Object.fromEntries(keys.map((k, i) => [String(i), k])));
    expect(await run(['prepared.a', 'prepared.c'])).toEqual([{ key: 'prepared.a' }, { key: 'prepared.c' }]);
    expect(await run(['prepared.b', 'prepared.a'])).toEqual([{ key: 'prepared.a' }, { key: 'prepared.b' }]);
    expect(await run(['prepared.b'])).toEqual([{ key: 'prepared.b' }]);
    expect(shapes).toEqual([2, 1]);
  });

  it('refuses a builder that computes with a placeholder instead of passing it', async () => {
    const computed = new PreparedQuery((db, p: { key: string }) =>
      db.selectFrom('instance_settings').select('key').where('key', '=', `${p.key}.suffix`),
    );
    await expect(computed.execute(t.database.db, { key: 'prepared' })).rejects.toThrow(/computed from a placeholder/);
  });

  it('refuses a placeholder written into the SQL text or never used as a parameter', async () => {
    const inlined = new PreparedQuery((db, p: { key: string }) =>
      db.selectFrom('instance_settings').select('key').where('key', '=', sql.lit(p.key)),
    );
    await expect(inlined.execute(t.database.db, { key: 'prepared.a' })).rejects.toThrow(/prepared query/);
    const ignored = new PreparedQuery((db, p: { key: string; unused: string }) => {
      void p.unused;
      return db.selectFrom('instance_settings').select('key').where('key', '=', p.key);
    });
    await expect(ignored.execute(t.database.db, { key: 'prepared.a', unused: 'x' })).rejects.toThrow(
      /placeholder unused is not a parameter/,
    );
  });

  // Registered on PostgreSQL only (a skipped test would read as a missing service in CI).
  if (dialect === 'postgres') {
    it('goes out as a named statement on PostgreSQL, other queries do not', async () => {
      await t.database.db.transaction().execute(async (trx) => {
        await BY_KEY.first(trx, { key: 'prepared.a' });
        await BY_KEY.first(trx, { key: 'prepared.b' });
        await trx.selectFrom('instance_settings').select('key').where('key', '=', 'prepared.c').execute();
        const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(trx);
        const statements = rows.map((r) => r.statement);
        expect(
          statements.filter((s) => s === 'select "key", "value" from "instance_settings" where "key" = $1'),
        ).toHaveLength(1);
        expect(statements).not.toContain('select "key" from "instance_settings" where "key" = $1');
      });
    });
  }
});

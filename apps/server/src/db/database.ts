import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase, type SqliteStatement, sql } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import { namingPreparedStatements } from './pg-named-statements.js';
import type { DB } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

/** An open database: the Kysely handle plus what the server needs around it. */
export interface Database {
  db: Kysely<DB>;
  dialect: Dialect;
  /** Resolves true when a trivial query succeeds within the timeout. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

// BIGINT (int8) columns hold millisecond timestamps and counters well below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** Opens SQLite or PostgreSQL according to the configuration. */
export function openDatabase(config: Config['database']): Database {
  return config.kind === 'sqlite' ? openSqlite(config.path) : openPostgres(config.url);
}

function openSqlite(file: string): Database {
  mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  // WAL for concurrent readers; FULL so an acknowledged commit survives a power loss.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
  return {
    db,
    dialect: 'sqlite',
    ping: (timeoutMs) => pingWith(db, timeoutMs),
    close: () => db.destroy(),
  };
}

/**
 * Kysely prepares every query afresh, and better-sqlite3 compiles SQL on each prepare, which
 * showed up as a tenth of the server's CPU under message load. The same SQL text gets the
 * same compiled statement back (least recently used ones are dropped past `max`). Kysely runs
 * one query at a time on its single SQLite connection, so a statement is never in use twice.
 */
function reusingStatements(sqlite: SQLite.Database, max = 500): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => sqlite.close(),
    prepare: (text: string) => {
      const cached = cache.get(text);
      if (cached) {
        cache.delete(text);
        cache.set(text, cached);
        return cached;
      }
      const statement = withFastRows(sqlite.prepare(text));
      cache.set(text, statement);
      if (cache.size > max) cache.delete(cache.keys().next().value!);
      return statement;
    },
  };
}

/**
 * A statement whose rows are read as arrays and turned into objects by a function made for
 * its columns. better-sqlite3 builds each row object property by property in C++, which was
 * half the CPU of reading a 50-message history page (282 µs of rows as objects against 145 µs
 * as arrays; 166 µs as arrays made into objects this way). The rows are the same objects as
 * before: the columns' names as keys, in order, a later column of the same name winning.
 */
function withFastRows(statement: SQLite.Statement): SqliteStatement {
  if (!statement.reader) return statement;
  const columns = statement.columns().map((c) => c.name);
  statement.raw(true);
  const toObject = rowMaker(columns);
  return {
    reader: true,
    all: (parameters) => (statement.all(parameters) as unknown[][]).map(toObject),
    run: (parameters) => statement.run(parameters),
    *iterate(parameters) {
      for (const row of statement.iterate(parameters) as IterableIterator<unknown[]>) yield toObject(row);
    },
  };
}

/**
 * `(row) => ({ "id": row[0], "seq": row[1], … })` for these column names: an object literal of
 * one fixed shape, which V8 builds far faster than keyed stores in a loop. The names come from
 * SQLite (our own schema and aliases) and are quoted by JSON.stringify, so they are only ever
 * string literals in the generated code.
 */
function rowMaker(columns: readonly string[]): (row: unknown[]) => Record<string, unknown> {
  // In a literal, "__proto__" would set the prototype instead of a property.
  if (columns.includes('__proto__')) return (row) => Object.fromEntries(columns.map((name, i) => [name, row[i]]));
  const fields = columns.map((name, i) => `${JSON.stringify(name)}: row[${i}]`).join(', ');
  return new Function('row', `return { ${fields} };`) as (row: unknown[]) => Record<string, unknown>;
}

function openPostgres(url: string): Database {
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: namingPreparedStatements(pool) }) });
  return {
    db,
    dialect: 'postgres',
    ping: (timeoutMs) => pingWith(db, timeoutMs),
    close: () => db.destroy(),
  };
}

async function pingWith(db: Kysely<DB>, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const query = sql`select 1 as ok`
    .execute(db)
    .then(() => true)
    .catch(() => false);
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

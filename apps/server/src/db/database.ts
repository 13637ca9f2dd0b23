import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase, sql } from 'kysely';
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
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (text: string) => {
      const cached = cache.get(text);
      if (cached) {
        cache.delete(text);
        cache.set(text, cached);
        return cached;
      }
      const statement = sqlite.prepare(text);
      cache.set(text, statement);
      if (cache.size > max) cache.delete(cache.keys().next().value!);
      return statement;
    },
  };
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

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config.js';
import { type Database, type Dialect, openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { TEST_DATABASE_URL } from './services.js';

/** SQLite always; PostgreSQL too when TEST_DATABASE_URL is set. */
export const DIALECTS: Dialect[] = TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestDatabase {
  database: Database;
  /** The configuration that opens this same database (for a second process or a restart). */
  config: Config['database'];
  /** Closes the connection and deletes the database. */
  drop(): Promise<void>;
}

/**
 * A fresh, empty database of the given dialect for one test file: a new SQLite file in a
 * temporary folder, or a new PostgreSQL database on the TEST_DATABASE_URL server.
 * Migrated unless `migrate: false`.
 */
export async function createTestDatabase(dialect: Dialect, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const created = dialect === 'sqlite' ? createSqlite() : await createPostgres();
  const database = openDatabase(created.config);
  if (options.migrate !== false) await migrateToLatest(database);
  return {
    database,
    config: created.config,
    drop: async () => {
      await database.close();
      await created.remove();
    },
  };
}

function createSqlite(): { config: Config['database']; remove: () => Promise<void> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'chatalot-db-'));
  return {
    config: { kind: 'sqlite', path: path.join(dir, 'test.db') },
    remove: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function createPostgres(): Promise<{ config: Config['database']; remove: () => Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `chatalot_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    config: { kind: 'postgres', url: url.toString() },
    remove: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

import { type Migration, type MigrationProvider, type MigrationResultSet, Migrator } from 'kysely';
import type { Database } from './database.js';
import * as m0001 from './migrations/0001-instance-settings.js';
import * as m0002 from './migrations/0002-accounts.js';
import * as m0003 from './migrations/0003-spaces.js';
import * as m0004 from './migrations/0004-keys.js';
import * as m0005 from './migrations/0005-messages.js';
import * as m0006 from './migrations/0006-device-messages.js';
import * as m0007 from './migrations/0007-provisioning.js';
import * as m0008 from './migrations/0008-partial-message-indexes.js';
import * as m0009 from './migrations/0009-message-reaction-counts.js';

/**
 * The one migration set, listed statically so it is bundled with the code (no directory
 * scanning at run time). Names sort in the order they must run.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001-instance-settings': m0001,
  '0002-accounts': m0002,
  '0003-spaces': m0003,
  '0004-keys': m0004,
  '0005-messages': m0005,
  '0006-device-messages': m0006,
  '0007-provisioning': m0007,
  '0008-partial-message-indexes': m0008,
  '0009-message-reaction-counts': m0009,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Brings the schema up to date. Safe to run concurrently from several processes. */
export async function migrateToLatest(database: Database): Promise<string[]> {
  return migrateWith(database, (migrator) => migrator.migrateToLatest());
}

/** Brings the schema up to the named migration and no further (tests of what one migration does to data). */
export async function migrateUpTo(database: Database, name: string): Promise<string[]> {
  return migrateWith(database, (migrator) => migrator.migrateTo(name));
}

/** Runs the migrator; names the migration that failed, or returns the ones applied. */
async function migrateWith(
  database: Database,
  run: (migrator: Migrator) => Promise<MigrationResultSet>,
): Promise<string[]> {
  const { error, results } = await run(new Migrator({ db: database.db, provider }));
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** The names of every migration this build knows, in order. */
export const migrationNames = (): string[] => Object.keys(MIGRATIONS).sort();

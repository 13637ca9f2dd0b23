import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../app.js';
import { MemoryBroker } from '../broker/memory-broker.js';
import type { Config } from '../config.js';
import type { Dialect } from '../db/database.js';
import { loadOrCreateSecrets, type Secrets } from '../secrets.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';
import { testConfig } from './test-config.js';

/** Limits high enough that tests which are not about rate limiting never meet them. */
export const GENEROUS_RATE_LIMITS = {
  general: { capacity: 100_000, refillPerSec: 100_000 },
  auth: { capacity: 100_000, refillPerSec: 100_000 },
};

export interface TestApp {
  app: FastifyInstance;
  db: TestDatabase;
  broker: MemoryBroker;
  config: Config;
  secrets: Secrets;
  close(): Promise<void>;
}

/**
 * The real app on a fresh database of the given dialect, with generated secrets in a temporary
 * DATA_DIR; `env` adds configuration, `deps` overrides parts (rate limits, counter store).
 */
export async function createTestApp(
  dialect: Dialect,
  options: { env?: Record<string, string>; deps?: Partial<AppDeps> } = {},
): Promise<TestApp> {
  const db = await createTestDatabase(dialect);
  const config = testConfig({ CHATALOT_WEB_DIR: '/nonexistent', ...options.env });
  const secrets = loadOrCreateSecrets(config);
  const broker = new MemoryBroker();
  const app = await buildApp({
    config,
    database: db.database,
    broker,
    secrets,
    version: '9.9.9',
    rateLimits: GENEROUS_RATE_LIMITS,
    ...options.deps,
  });
  await app.ready();
  return {
    app,
    db,
    broker,
    config,
    secrets,
    close: async () => {
      await app.close();
      await broker.close();
      await db.drop();
    },
  };
}

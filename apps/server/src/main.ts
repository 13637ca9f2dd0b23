import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { AuditLog } from './audit/audit-log.js';
import { createBroker } from './broker/create-broker.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import type { GatewayState } from './gateway/state/gateway-state.js';
import { MemoryGatewayState } from './gateway/state/memory-gateway-state.js';
import { RedisGatewayState } from './gateway/state/redis-gateway-state.js';
import { startMessagePurge } from './jobs/message-purge.js';
import { runPeriodically } from './jobs/periodic.js';
import { type CounterStore, MemoryCounterStore, RedisCounterStore } from './rate-limit/index.js';
import { loadOrCreateSecrets, SecretsError } from './secrets.js';
import { grantConfiguredAdmin } from './users/admin-bootstrap.js';
import { UsersRepo } from './users/repo.js';
import { SERVER_VERSION } from './version.js';

/** Exit code for a configuration the operator must fix (sysexits EX_CONFIG). */
const EXIT_CONFIG = 78;
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The server's entry point: configuration, secrets, database and migrations, broker, HTTP.
 * Every failure before listening ends the process with a message that says what to do.
 */
async function main(): Promise<void> {
  const startedAt = Date.now();
  const config = loadConfigOrExit();
  const secrets = exitOnSecretsError(() => loadOrCreateSecrets(config));

  const database = openDatabase(config.database);
  await migrateToLatest(database);
  await grantConfiguredAdmin(new UsersRepo(database.db), new AuditLog(database.db), config.adminUsername);

  const broker = await createBroker(config);
  const counters = openSharedState(config);

  const app = await buildApp({
    config,
    database,
    broker,
    secrets,
    counterStore: counters.store,
    gatewayState: counters.gatewayState,
    version: SERVER_VERSION,
    startedAt,
  });
  // Deleting by age is idempotent, so every process may run it; no cluster lock needed.
  const audit = new AuditLog(database.db);
  const stopRetention = runPeriodically(
    async () => void (await audit.purgeOlderThan(config.auditRetentionDays)),
    6 * 60 * 60 * 1000,
    (err) => app.log.error({ err }, 'audit log retention failed'),
  );
  // Likewise the message purge (deleted over 30 days ago, disappeared): each row goes once.
  const stopMessagePurge = startMessagePurge(database.db, (err) => app.log.error({ err }, 'message purge failed'));
  app.addHook('onClose', async () => {
    await stopRetention();
    await stopMessagePurge();
    await broker.close();
    await counters.close();
    await database.close();
  });
  installShutdown(app);

  await app.listen({ host: config.listen.host, port: config.listen.port });
  printWelcome(config, app, secrets.generated);
}

/**
 * Rate-limit counters and the gateway's sockets, presence and typing: shared through Redis
 * when several processes run, in memory otherwise.
 */
function openSharedState(config: Config): {
  store: CounterStore;
  gatewayState: GatewayState;
  close: () => Promise<void>;
} {
  if (!config.redisUrl) {
    return { store: new MemoryCounterStore(), gatewayState: new MemoryGatewayState(), close: async () => undefined };
  }
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', () => undefined); // reconnects by itself; the limiter fails open meanwhile
  return {
    store: new RedisCounterStore(redis),
    gatewayState: new RedisGatewayState(redis),
    close: async () => void (await redis.quit().catch(() => undefined)),
  };
}

function loadConfigOrExit(): Config {
  try {
    // The one place that reads the process environment.
    return loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\nSee the Configuration section of README.md.\n`);
    process.exit(EXIT_CONFIG);
  }
}

function exitOnSecretsError<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof SecretsError)) throw err;
    process.stderr.write(`Cannot load secrets: ${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
}

/** SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close broker and database. */
function installShutdown(app: FastifyInstance): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    setTimeout(() => {
      app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

function printWelcome(config: Config, app: FastifyInstance, firstStart: boolean): void {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.listen.port;
  const wildcard = ['0.0.0.0', '::', '[::]'].includes(config.listen.host);
  const host = wildcard
    ? 'localhost'
    : config.listen.host.includes(':')
      ? `[${config.listen.host}]`
      : config.listen.host;
  const url = config.publicUrl ?? `http://${host}:${port}`;
  const lines = [``, `Chatalot ${SERVER_VERSION} is running at ${url}`];
  if (firstStart) {
    lines.push(
      `First start: secrets were generated in ${config.secretsDir} (keep them; back them up with your data).`,
      `To create the first account, open ${url} and register: the first account on an empty instance`,
      `needs no invite and becomes the instance owner and admin.`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`Chatalot failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

import { randomUUID } from 'node:crypto';
import { constants as zlib } from 'node:zlib';
import compress from '@fastify/compress';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { LIMITS } from '@chatalot/protocol';
import path from 'node:path';
import { registerAccountImageRoutes } from './account/image-routes.js';
import { registerAccountRoutes } from './account/routes.js';
import { registerAdminRoutes } from './admin/routes.js';
import { AuditLog } from './audit/audit-log.js';
import { AccountService } from './auth/account-service.js';
import { Authenticator } from './auth/authenticate.js';
import { registerAuthRoutes } from './auth/routes.js';
import { SecondFactor } from './auth/second-factor.js';
import { SessionService } from './auth/sessions.js';
import { AccessTokens } from './auth/tokens.js';
import type { Broker } from './broker/broker.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { badRequest, installErrorHandling } from './errors.js';
import { ApiDocs } from './http/api-docs.js';
import { registerHealthRoutes } from './http/health-routes.js';
import { registerOpenApiRoute } from './http/openapi-routes.js';
import type { RouteContext } from './http/route.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { readWebAppShell, registerWebApp } from './http/web-app.js';
import { loggerOptions } from './logger.js';
import { PublicAssetStore, registerPublicAssetRoutes } from './media/public-assets.js';
import {
  type CounterStore,
  LoginThrottle,
  MemoryCounterStore,
  type RateLimitOptions,
  registerRateLimits,
} from './rate-limit/index.js';
import type { Secrets } from './secrets.js';
import { UsersRepo } from './users/repo.js';

/** What the app is built from; created by `main.ts` (or a test) and owned by the caller. */
export interface AppDeps {
  config: Config;
  database: Database;
  broker: Broker;
  secrets: Pick<Secrets, 'jwtPrivateKey' | 'jwtPublicKey' | 'totpEncryptionKey'>;
  version: string;
  startedAt?: number;
  /** Shared counters for rate limits and login throttling (Redis with several processes). */
  counterStore?: CounterStore;
  /** Overrides of the per-IP buckets (tests that are not about rate limiting). */
  rateLimits?: RateLimitOptions['limits'];
}

/**
 * Builds the HTTP application: error envelope, request ids, security headers, compression,
 * the API routes and the web app. Closing the app does not close the database or broker;
 * the caller that opened them closes them.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    logger: loggerOptions(config.logLevel),
    trustProxy: config.trustedProxies,
    bodyLimit: LIMITS.jsonBodyBytes,
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    // Malformed URLs and the like, caught before routing, still answer in the envelope.
    frameworkErrors: (error, _request, rawReply) => {
      // Fastify types this reply generically; it is an ordinary reply.
      const reply = rawReply as unknown as FastifyReply;
      void reply
        .code(400)
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify(badRequest(`Malformed request: ${error.message}`).toBody()));
    },
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  installErrorHandling(app);

  const shell = readWebAppShell(config.webDir);
  if (!shell.present) app.log.warn({ dir: config.webDir }, 'web app not built; run `npm run build`');
  await registerSecurityHeaders(app, shell.scriptHashes);
  await app.register(compress, {
    global: true,
    threshold: 1024,
    encodings: ['br', 'gzip'],
    brotliOptions: { params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } },
  });

  const counterStore = deps.counterStore ?? new MemoryCounterStore();
  registerRateLimits(app, { store: counterStore, limits: deps.rateLimits });

  const db = deps.database.db;
  const tokens = new AccessTokens(
    { privateKey: deps.secrets.jwtPrivateKey, publicKey: deps.secrets.jwtPublicKey },
    config.publicUrl ?? 'chatalot',
  );
  const audit = new AuditLog(db);
  const users = new UsersRepo(db);
  const sessions = new SessionService(db, tokens, audit, deps.broker);
  const secondFactor = new SecondFactor(db, deps.secrets.totpEncryptionKey, audit);
  const accounts = new AccountService({
    db,
    users,
    sessions,
    secondFactor,
    audit,
    throttle: new LoginThrottle(counterStore),
    config,
    pepper: deps.secrets.totpEncryptionKey,
  });
  const authenticator = new Authenticator(db, tokens);

  const ctx: RouteContext = { app, docs: new ApiDocs(), authenticate: (request) => authenticator.require(request) };
  registerHealthRoutes(ctx, { ...deps, startedAt: deps.startedAt ?? Date.now() });
  registerAuthRoutes(ctx, { accounts, sessions, audit });
  registerAccountRoutes(ctx, { accounts, sessions, secondFactor, users, audit });
  registerAdminRoutes(ctx, { db, audit });
  const assets = new PublicAssetStore(path.join(config.fileStoragePath, 'public'));
  registerPublicAssetRoutes(ctx, assets);
  registerAccountImageRoutes(ctx, { db, accounts, users, assets });
  registerOpenApiRoute(ctx, deps.version);
  await registerWebApp(app, shell);
  return app;
}

import { randomUUID } from 'node:crypto';
import { constants as zlib } from 'node:zlib';
import compress from '@fastify/compress';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { LIMITS } from '@chatalot/protocol';
import path from 'node:path';
import { registerAccountImageRoutes } from './account/image-routes.js';
import { registerAccountRoutes } from './account/routes.js';
import { registerAdminRoutes } from './admin/routes.js';
import { registerSuspensionRoutes } from './admin/suspension-routes.js';
import { AuditLog } from './audit/audit-log.js';
import { AccountService } from './auth/account-service.js';
import { Authenticator } from './auth/authenticate.js';
import { registerDeviceMessageRoutes } from './device-messages/routes.js';
import { DeviceMessageService } from './device-messages/service.js';
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
import { registerGateway } from './gateway/gateway.js';
import type { Presence } from './gateway/presence.js';
import type { GatewayState } from './gateway/state/gateway-state.js';
import { MemoryGatewayState } from './gateway/state/memory-gateway-state.js';
import { loggerOptions } from './logger.js';
import { registerMessageRoutes } from './messages/routes.js';
import { MessageService } from './messages/service.js';
import { Permissions } from './permissions/permissions.js';
import { registerKeyRoutes } from './keys/routes.js';
import { registerProvisioningRoutes } from './provisioning/routes.js';
import { SpaceEvents } from './spaces/events.js';
import { registerSpaceRoutes } from './spaces/routes.js';
import { PublicAssetStore, registerPublicAssetRoutes } from './media/public-assets.js';
import {
  type BucketSpec,
  type CounterStore,
  LoginThrottle,
  MemoryCounterStore,
  type RateLimitOptions,
  registerRateLimits,
} from './rate-limit/index.js';
import type { Secrets } from './secrets.js';
import { UsersRepo } from './users/repo.js';

/** One route of the app's route table. */
export interface RegisteredRoute {
  method: string;
  url: string;
  auth: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RegisteredRoute[];
  }
  interface FastifyContextConfig {
    /** Set by addRoute on routes that require a signed-in user. */
    auth?: boolean;
  }
}

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
  /** Sockets, presence and typing shared by the gateways of all processes (Redis with several). */
  gatewayState?: GatewayState;
  /** Overrides of the per-IP buckets (tests that are not about rate limiting). */
  rateLimits?: RateLimitOptions['limits'];
  /** Overrides the per requester+target bucket of prekey bundle fetches (keys/deps.ts). */
  bundleFetchLimit?: BucketSpec;
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
  // Callback style: an async hook would cost a promise on every request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // Every route as registered, for the authorization matrix and the documentation check.
  const routeTable: RegisteredRoute[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routeTable.push({ method, url: route.url, auth: route.config?.auth === true });
    }
  });
  installErrorHandling(app);

  const shell = readWebAppShell(config.webDir);
  if (!shell.present) app.log.warn({ dir: config.webDir }, 'web app not built; run `npm run build`');
  await registerSecurityHeaders(app, shell.scriptHashes);
  await app.register(compress, {
    global: true,
    threshold: 1024,
    encodings: ['br', 'gzip'],
    // Quality 1: the large responses are mostly base64 ciphertext, which quality 4 packs no
    // smaller (a 56 kB history page: 30.2 kB at 1, 30.6 kB at 4) for twice the CPU (about
    // 0.2 ms against 0.45 ms a page); the web app's own files are served pre-compressed.
    brotliOptions: { params: { [zlib.BROTLI_PARAM_QUALITY]: 1 } },
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
  // The gateway is built further down; a status changed over REST is announced through it.
  const live: { presence?: Presence } = {};
  registerAccountRoutes(ctx, {
    accounts,
    sessions,
    secondFactor,
    users,
    audit,
    presenceChanged: async (userId, status) => live.presence?.setStatus(userId, status),
  });
  registerAdminRoutes(ctx, { db, audit });
  const assets = new PublicAssetStore(path.join(config.fileStoragePath, 'public'));
  registerPublicAssetRoutes(ctx, assets);
  registerAccountImageRoutes(ctx, { db, accounts, users, assets });
  const permissions = new Permissions(db);
  const events = new SpaceEvents(deps.broker);
  const gatewayState = deps.gatewayState ?? new MemoryGatewayState();
  const presence = (ids: readonly string[]) => gatewayState.publicPresence(ids, Date.now());
  registerSpaceRoutes(ctx, { db, permissions, audit, events, assets, config, now: Date.now, presence });
  registerSuspensionRoutes(ctx, { db, audit, sessions, events });
  const messages = new MessageService({ db, permissions, events, now: Date.now });
  const deviceMessages = new DeviceMessageService({ db, events, now: Date.now });
  registerDeviceMessageRoutes(ctx, deviceMessages);
  registerMessageRoutes(ctx, { db, permissions, events, messages, now: Date.now });
  const gateway = await registerGateway(app, {
    db,
    broker: deps.broker,
    events,
    permissions,
    authenticator,
    messages,
    deviceMessages,
    state: gatewayState,
    maxSocketsPerUser: config.maxSocketsPerUser,
    publicUrl: config.publicUrl,
  });
  live.presence = gateway.presence;
  registerKeyRoutes(ctx, {
    db,
    dialect: deps.database.dialect,
    events: new SpaceEvents(deps.broker),
    counterStore,
    bundleFetchLimit: deps.bundleFetchLimit,
    now: Date.now,
  });
  registerProvisioningRoutes(ctx, { db, counterStore, now: Date.now });
  registerOpenApiRoute(ctx, deps.version);
  await registerWebApp(app, shell);
  return app;
}

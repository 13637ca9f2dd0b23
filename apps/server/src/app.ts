import { randomUUID } from 'node:crypto';
import { constants as zlib } from 'node:zlib';
import compress from '@fastify/compress';
import Fastify, { type FastifyInstance } from 'fastify';
import { LIMITS } from '@chatalot/protocol';
import type { Broker } from './broker/broker.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { installErrorHandling } from './errors.js';
import { ApiDocs } from './http/api-docs.js';
import { registerHealthRoutes } from './http/health-routes.js';
import { registerOpenApiRoute } from './http/openapi-routes.js';
import type { RouteContext } from './http/route.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { readWebAppShell, registerWebApp } from './http/web-app.js';
import { loggerOptions } from './logger.js';

/** What the app is built from; created by `main.ts` (or a test) and owned by the caller. */
export interface AppDeps {
  config: Config;
  database: Database;
  broker: Broker;
  version: string;
  startedAt?: number;
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

  const ctx: RouteContext = { app, docs: new ApiDocs() };
  registerHealthRoutes(ctx, { ...deps, startedAt: deps.startedAt ?? Date.now() });
  registerOpenApiRoute(ctx, deps.version);
  await registerWebApp(app, shell);
  return app;
}

import type { RouteContext } from './route.js';

/** `GET /api/openapi.json`: the OpenAPI 3.1 document of every registered route. */
export function registerOpenApiRoute(ctx: RouteContext, version: string): void {
  let cached: Record<string, unknown> | undefined;
  ctx.app.get('/api/openapi.json', async (_request, reply) => {
    // Rendered on first request, after every route has been registered.
    cached ??= ctx.docs.document({ version });
    reply.header('cache-control', 'no-cache');
    return cached;
  });
}

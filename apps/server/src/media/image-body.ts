import type { RouteContext } from '../http/route.js';

/**
 * Registers image upload routes in a plugin scope of their own, where the body is the raw
 * image bytes (`image/*` or `application/octet-stream`, at most `bodyLimit`): no other route
 * accepts images.
 */
export function withImageBodies(ctx: RouteContext, bodyLimit: number, register: (scoped: RouteContext) => void): void {
  ctx.app.register(async (scope) => {
    for (const type of ['application/octet-stream', /^image\/[a-z0-9.+-]+$/]) {
      scope.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
    }
    register({ ...ctx, app: scope });
  });
}

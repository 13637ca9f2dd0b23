import { registerCommunityRoutes } from '../communities/routes.js';
import { registerDmRoutes } from '../dms/routes.js';
import { registerGroupRoutes } from '../groups/routes.js';
import type { RouteContext } from '../http/route.js';
import type { SpacesDeps } from './deps.js';

/** Communities, groups and channels, DMs and blocks: PRODUCT.md §3. */
export function registerSpaceRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  registerCommunityRoutes(ctx, deps);
  registerGroupRoutes(ctx, deps);
  registerDmRoutes(ctx, deps);
}

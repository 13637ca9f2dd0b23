import type { RouteContext } from '../http/route.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { registerChannelRoutes } from './channels/routes.js';
import { registerGroupCoreRoutes } from './group-routes.js';
import { registerGroupImageRoutes } from './image-routes.js';
import { registerGroupInviteRoutes } from './invite-routes.js';
import { registerGroupMemberRoutes } from './member-routes.js';
import { registerPersonalGroupRoutes } from './personal-routes.js';

/**
 * Groups, personal groups and their channels (PRODUCT.md §3). Every route asks
 * `deps.permissions` (rules.ts) before touching anything.
 */
export function registerGroupRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  registerGroupCoreRoutes(ctx, deps);
  registerGroupImageRoutes(ctx, deps);
  registerGroupMemberRoutes(ctx, deps);
  registerGroupInviteRoutes(ctx, deps);
  registerPersonalGroupRoutes(ctx, deps);
  registerChannelRoutes(ctx, deps);
}

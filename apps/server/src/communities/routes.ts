import type { RouteContext } from '../http/route.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { registerCommunityBanRoutes } from './ban-routes.js';
import { registerCommunityCoreRoutes } from './community-routes.js';
import { registerCommunityImageRoutes } from './image-routes.js';
import { registerCommunityInviteRoutes } from './invite-routes.js';
import { registerCommunityMemberRoutes } from './member-routes.js';

/**
 * Communities (PRODUCT.md §3): the community itself, its icon and banner, invites and joining,
 * members and bans. Every route asks `deps.permissions` (rules.ts) before touching anything.
 */
export function registerCommunityRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  registerCommunityCoreRoutes(ctx, deps);
  registerCommunityImageRoutes(ctx, deps);
  registerCommunityInviteRoutes(ctx, deps);
  registerCommunityMemberRoutes(ctx, deps);
  registerCommunityBanRoutes(ctx, deps);
}

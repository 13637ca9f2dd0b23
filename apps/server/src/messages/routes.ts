import type { RouteContext } from '../http/route.js';
import type { MessageRoutesDeps } from './deps.js';
import { registerHistoryRoutes } from './history-routes.js';
import { registerMessageActionRoutes } from './message-routes.js';
import { registerPinRoutes } from './pin-routes.js';
import { registerReadRoutes } from './read-routes.js';

export type { MessageRoutesDeps } from './deps.js';

/**
 * The REST side of messaging (PRODUCT.md §4): history, threads and edit history; sending (for
 * bots and webhooks), editing, deleting and reacting through the same MessageService as the
 * WebSocket; pins; read cursors and unread counts.
 */
export function registerMessageRoutes(ctx: RouteContext, deps: MessageRoutesDeps): void {
  registerHistoryRoutes(ctx, deps);
  registerMessageActionRoutes(ctx, deps);
  registerPinRoutes(ctx, deps);
  registerReadRoutes(ctx, deps);
}

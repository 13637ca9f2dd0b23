import type { Kysely } from 'kysely';
import { z } from 'zod';
import { auditSource, type AuditLog } from '../audit/audit-log.js';
import { isInstanceAdmin, type Actor } from '../auth/authenticate.js';
import type { SessionService } from '../auth/sessions.js';
import type { DB } from '../db/schema.js';
import { badRequest, forbidden, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import type { SpaceEvents } from '../spaces/events.js';
import { topics } from '../spaces/events.js';

export interface SuspensionDeps {
  db: Kysely<DB>;
  audit: AuditLog;
  sessions: SessionService;
  events: SpaceEvents;
  now?: () => number;
}

const UserParams = z.object({ userId: z.string().min(1).max(64) });
const SuspendBody = z.object({ reason: z.string().max(500).optional() });

/**
 * Suspending an account (instance admins): it can no longer sign in or use any token, every
 * session is signed out and its open sockets, on every process, are closed. Only the instance
 * owner may suspend another admin; nobody suspends the owner or themselves.
 */
export function registerSuspensionRoutes(ctx: RouteContext, deps: SuspensionDeps): void {
  const now = deps.now ?? Date.now;
  const tags = ['admin'];

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/admin/users/:userId/suspend',
      summary: 'Suspend an account: signs out all its sessions and closes its sockets (instance admins)',
      tags,
      auth: true,
      params: UserParams,
      body: SuspendBody,
      status: 204,
      errors: [400, 403, 404],
    },
    async ({ actor, params, body, request }) => {
      await requireMayModerate(deps.db, actor, params.userId);
      const updated = await deps.db
        .updateTable('users')
        .set({ suspended_at: now(), updated_at: now() })
        .where('id', '=', params.userId)
        .where('suspended_at', 'is', null)
        .executeTakeFirst();
      const revoked = await deps.sessions.revokeAll(params.userId, 'suspended');
      await deps.events.publish({ type: 'user.suspended', user_id: params.userId }, topics.user(params.userId));
      if (Number(updated.numUpdatedRows) === 0) return;
      await deps.audit.record('user_suspended', auditSource(request), {
        actorId: actor.userId,
        targetId: params.userId,
        details: { reason: body.reason ?? '', sessions_revoked: revoked },
      });
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/admin/users/:userId/unsuspend',
      summary: 'Lift a suspension; the user signs in again (instance admins)',
      tags,
      auth: true,
      params: UserParams,
      status: 204,
      errors: [403, 404],
    },
    async ({ actor, params, request }) => {
      await requireMayModerate(deps.db, actor, params.userId);
      const updated = await deps.db
        .updateTable('users')
        .set({ suspended_at: null, updated_at: now() })
        .where('id', '=', params.userId)
        .where('suspended_at', 'is not', null)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return;
      await deps.audit.record('user_unsuspended', auditSource(request), {
        actorId: actor.userId,
        targetId: params.userId,
      });
    },
  );
}

async function requireMayModerate(db: Kysely<DB>, actor: Actor, targetId: string): Promise<void> {
  if (!isInstanceAdmin(actor)) throw forbidden('Only instance admins can do that');
  if (targetId === actor.userId) throw badRequest('You cannot suspend yourself');
  const target = await db.selectFrom('users').select('instance_role').where('id', '=', targetId).executeTakeFirst();
  if (!target) throw notFound('No such user');
  if (target.instance_role === 'owner') throw forbidden('The instance owner cannot be suspended');
  if (target.instance_role === 'admin' && actor.instanceRole !== 'owner') {
    throw forbidden('Only the instance owner can suspend an admin');
  }
}

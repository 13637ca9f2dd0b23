import { BlockList, BlockRequest, BlockedUser } from '@chatalot/protocol';
import { z } from 'zod';
import { badRequest, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { topics } from '../spaces/events.js';
import { CARD_COLUMNS, toUserCard } from './views.js';

/**
 * User blocks (`/api/blocks`): the actor's own list, so no place permission applies. A block
 * keeps existing DMs but stops new DMs and group DM invitations between the two people. Only
 * the blocker is told (on their own user topic); the blocked user never learns of it.
 */
export function registerBlockRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  const tags = ['blocks'];

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/blocks',
      summary: 'List the users you blocked',
      tags,
      auth: true,
      response: BlockList,
    },
    async ({ actor }) => {
      const rows = await deps.db
        .selectFrom('user_blocks as b')
        .innerJoin('users as u', 'u.id', 'b.blocked_id')
        .select(['b.created_at', ...CARD_COLUMNS.map((c) => `u.${c}` as const)])
        .where('b.blocker_id', '=', actor.userId)
        .orderBy('b.created_at', 'desc')
        .orderBy('u.username_lower')
        .execute();
      return { blocks: rows.map((r) => ({ user: toUserCard(r), created_at: r.created_at })) };
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/blocks',
      summary: 'Block a user (idempotent): no new DMs or group DM invitations between you',
      tags,
      auth: true,
      body: BlockRequest,
      response: BlockedUser,
      status: 201,
      errors: [400, 404],
    },
    async ({ actor, body }) => {
      if (body.user_id === actor.userId) throw badRequest('You cannot block yourself');
      const user = await deps.db
        .selectFrom('users')
        .select(CARD_COLUMNS)
        .where('id', '=', body.user_id)
        .executeTakeFirst();
      if (!user) throw notFound('No such user');
      const inserted = await deps.db
        .insertInto('user_blocks')
        .values({ blocker_id: actor.userId, blocked_id: user.id, created_at: deps.now() })
        .onConflict((oc) => oc.columns(['blocker_id', 'blocked_id']).doNothing())
        .executeTakeFirst();
      const row = await deps.db
        .selectFrom('user_blocks')
        .select('created_at')
        .where('blocker_id', '=', actor.userId)
        .where('blocked_id', '=', user.id)
        .executeTakeFirstOrThrow();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) {
        await deps.events.publish({ type: 'user.blocked', user_id: user.id }, topics.user(actor.userId));
      }
      return { user: toUserCard(user), created_at: row.created_at };
    },
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/blocks/:userId',
      summary: 'Unblock a user (idempotent)',
      tags,
      auth: true,
      params: z.object({ userId: z.string().min(1).max(64) }),
    },
    async ({ actor, params }) => {
      const removed = await deps.db
        .deleteFrom('user_blocks')
        .where('blocker_id', '=', actor.userId)
        .where('blocked_id', '=', params.userId)
        .executeTakeFirst();
      if (Number(removed.numDeletedRows) > 0) {
        await deps.events.publish({ type: 'user.unblocked', user_id: params.userId }, topics.user(actor.userId));
      }
    },
  );
}

import { UserProfile, UserSearchQuery, UserSearchResults } from '@chatalot/protocol';
import { sql } from 'kysely';
import { z } from 'zod';
import { isInstanceAdmin } from '../auth/authenticate.js';
import { notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import type { SpacesDeps } from '../spaces/deps.js';
import type { Reach } from './reach.js';
import { CARD_COLUMNS, toUserCard, toUserProfile } from './views.js';

/** A LIKE prefix pattern matching `text` literally (used with `escape '\'`). */
export function likePrefix(text: string): string {
  return `${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Finding people (`/api/users/…`): search and public profiles are limited to people who share
 * a community with the actor (instance admins see everyone), so nobody can list the instance.
 */
export function registerUserRoutes(ctx: RouteContext, deps: SpacesDeps, reach: Reach): void {
  const tags = ['users'];

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/users/search',
      summary: 'Find people you share a community with by username or display name prefix',
      tags,
      auth: true,
      query: UserSearchQuery,
      response: UserSearchResults,
      errors: [400],
    },
    async ({ actor, query }) => {
      const pattern = likePrefix(query.q);
      let q = deps.db
        .selectFrom('users as u')
        .select(CARD_COLUMNS.map((c) => `u.${c}` as const))
        .where('u.suspended_at', 'is', null)
        .where('u.id', '!=', actor.userId)
        // lower() folds ASCII on SQLite and all of Unicode on PostgreSQL.
        .where((eb) =>
          eb.or([
            sql<boolean>`${eb.ref('u.username_lower')} like ${pattern} escape '\\'`,
            sql<boolean>`lower(${eb.ref('u.display_name')}) like ${pattern} escape '\\'`,
          ]),
        );
      if (!isInstanceAdmin(actor)) {
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('community_members as mine')
              .innerJoin('community_members as theirs', 'theirs.community_id', 'mine.community_id')
              .select('theirs.user_id')
              .where('mine.user_id', '=', actor.userId)
              .whereRef('theirs.user_id', '=', 'u.id')
              .where((b) =>
                b.not(
                  b.exists(
                    b
                      .selectFrom('community_bans as cb')
                      .select('cb.user_id')
                      .whereRef('cb.community_id', '=', 'mine.community_id')
                      .where((c) => c.or([c('cb.user_id', '=', actor.userId), c('cb.user_id', '=', c.ref('u.id'))])),
                  ),
                ),
              ),
          ),
        );
      }
      const rows = await q.orderBy('u.username_lower').limit(query.limit).execute();
      return { users: rows.map(toUserCard) };
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/users/:userId',
      summary: "A user's public profile (people who share a community with them, and instance admins)",
      tags,
      auth: true,
      params: z.object({ userId: z.string().min(1).max(64) }),
      response: UserProfile,
      errors: [404],
    },
    async ({ actor, params }) => {
      // Unknown users and users out of reach get the same answer.
      if (!(await reach.canSee(actor, params.userId))) throw notFound('No such user');
      const row = await deps.db.selectFrom('users').selectAll().where('id', '=', params.userId).executeTakeFirst();
      if (!row) throw notFound('No such user');
      const live = await deps.presence([row.id]);
      return toUserProfile(row, live.get(row.id) ?? 'offline');
    },
  );
}

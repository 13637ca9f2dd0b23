import { CommunityBan, CommunityBanList, CreateCommunityBan } from '@chatalot/protocol';
import { auditSource } from '../audit/audit-log.js';
import { conflict, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { topics } from '../spaces/events.js';
import { CommunityParams } from './community-routes.js';
import { MemberParams } from './member-routes.js';
import { publishRemoval } from './publish.js';
import { removeMember } from './repo.js';
import { type BanRow, toBan } from './views.js';

const tags = ['communities'];

/**
 * Community bans (community.members.ban). A ban removes the membership like a kick and stops
 * every later join by invite. Decision: any existing user can be banned, member or not, so
 * moderators can keep a known troublemaker out before they join; `requireOutranks` still
 * applies to members (nobody bans the owner or someone of their own rank).
 */
export function registerCommunityBanRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  const bans = (communityId: string) =>
    deps.db
      .selectFrom('community_bans as b')
      .innerJoin('users as u', 'u.id', 'b.user_id')
      .select([
        'b.user_id',
        'u.username',
        'u.display_name',
        'u.avatar_asset',
        'b.reason',
        'b.banned_by',
        'b.created_at',
      ])
      .where('b.community_id', '=', communityId);

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/communities/:id/bans',
      summary: 'Ban a user (member or not) with a lower role; removes them from the community and its groups',
      tags,
      auth: true,
      params: CommunityParams,
      body: CreateCommunityBan,
      response: CommunityBan,
      status: 201,
      errors: [400, 403, 404, 409],
    },
    async ({ actor, params, body, request }) => {
      const facts = await deps.permissions.require(actor, 'community.members.ban', params.id);
      const user = await deps.db.selectFrom('users').select('id').where('id', '=', body.user_id).executeTakeFirst();
      if (!user) throw notFound('No such user');
      const role = await deps.permissions.requireOutranks(actor, facts, body.user_id);
      const removed = await deps.db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('community_bans')
          .values({
            community_id: params.id,
            user_id: body.user_id,
            reason: body.reason ?? '',
            banned_by: actor.userId,
            created_at: deps.now(),
          })
          .onConflict((oc) => oc.columns(['community_id', 'user_id']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) throw conflict('That user is banned already');
        return removeMember(trx, params.id, body.user_id);
      });
      await deps.audit.record('member_banned', auditSource(request), {
        actorId: actor.userId,
        targetId: body.user_id,
        details: { community_id: params.id, reason: body.reason ?? '', was_member: removed.removed, role },
      });
      await publishRemoval(deps, 'member.banned', params.id, body.user_id, removed.groupIds);
      const row: BanRow | undefined = await bans(params.id).where('b.user_id', '=', body.user_id).executeTakeFirst();
      if (!row) throw notFound('No such ban');
      return toBan(row);
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/communities/:id/bans',
      summary: 'List the community’s bans, newest first (community.members.ban)',
      tags,
      auth: true,
      params: CommunityParams,
      response: CommunityBanList,
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      await deps.permissions.require(actor, 'community.members.ban', params.id);
      const rows = await bans(params.id).orderBy('b.created_at', 'desc').orderBy('b.user_id').limit(1000).execute();
      return { bans: rows.map(toBan) };
    },
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/communities/:id/bans/:userId',
      summary: 'Lift a ban (community.members.ban); the user may join again by invite',
      tags,
      auth: true,
      params: MemberParams,
      errors: [403, 404],
    },
    async ({ actor, params, request }) => {
      await deps.permissions.require(actor, 'community.members.ban', params.id);
      const result = await deps.db
        .deleteFrom('community_bans')
        .where('community_id', '=', params.id)
        .where('user_id', '=', params.userId)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) !== 1) throw notFound('That user is not banned here');
      await deps.audit.record('member_unbanned', auditSource(request), {
        actorId: actor.userId,
        targetId: params.userId,
        details: { community_id: params.id },
      });
      await deps.events.publish(
        { type: 'member.unbanned', community_id: params.id, user_id: params.userId },
        topics.community(params.id),
        topics.user(params.userId),
      );
    },
  );
}

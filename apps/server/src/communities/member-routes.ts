import {
  CommunityMember,
  CommunityMemberList,
  CommunityMemberListQuery,
  UpdateCommunityMember,
} from '@chatalot/protocol';
import { z } from 'zod';
import { auditSource } from '../audit/audit-log.js';
import type { CommunityRole } from '../db/schema.js';
import { conflict, forbidden, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import { rank } from '../permissions/roles.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { CommunityParams } from './community-routes.js';
import { publishToMember, publishRemoval } from './publish.js';
import { removeMember } from './repo.js';
import { type MemberRow, toMember } from './views.js';

const tags = ['communities'];
export const MemberParams = CommunityParams.extend({ userId: z.string().min(1).max(64) });

/** Community members: list, role and nickname changes, kick, leave. */
export function registerCommunityMemberRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  const members = (communityId: string) =>
    deps.db
      .selectFrom('community_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select([
        'm.user_id',
        'u.username',
        'u.username_lower',
        'u.display_name',
        'u.avatar_asset',
        'm.role',
        'm.nickname',
        'm.joined_at',
      ])
      .where('m.community_id', '=', communityId);

  const memberView = async (communityId: string, userId: string) => {
    const row: MemberRow | undefined = await members(communityId).where('m.user_id', '=', userId).executeTakeFirst();
    if (!row) throw notFound('That user is not a member of this community');
    const live = await deps.presence([userId]);
    return toMember(row, live.get(userId) ?? 'offline');
  };

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/communities/:id/members',
      summary: 'List members with their roles and nicknames, by username (community.members.view)',
      tags,
      auth: true,
      params: CommunityParams,
      query: CommunityMemberListQuery,
      response: CommunityMemberList,
      errors: [400, 403, 404],
    },
    async ({ actor, params, query }) => {
      await deps.permissions.require(actor, 'community.members.view', params.id);
      let q = members(params.id);
      if (query.after !== undefined) q = q.where('u.username_lower', '>', query.after);
      const rows = await q
        .orderBy('u.username_lower')
        .limit(query.limit + 1)
        .execute();
      const page = rows.slice(0, query.limit);
      const live = await deps.presence(page.map((r) => r.user_id));
      return {
        members: page.map((r) => toMember(r, live.get(r.user_id) ?? 'offline')),
        next_cursor: rows.length > query.limit ? (page.at(-1)?.username_lower ?? null) : null,
      };
    },
  );

  addRoute(
    ctx,
    {
      method: 'PATCH',
      url: '/api/communities/:id/members/:userId',
      summary:
        'Change a member’s role (community.members.role, only to roles below yours, on members below you) or nickname (own: community.nickname.own; others: community.members.nickname)',
      tags,
      auth: true,
      params: MemberParams,
      body: UpdateCommunityMember,
      response: CommunityMember,
      errors: [400, 403, 404, 409],
    },
    async ({ actor, params, body, request }) => {
      const self = params.userId === actor.userId;
      let previousRole: CommunityRole | null = null;
      // Every check runs before anything changes.
      if (body.role !== undefined) {
        const facts = await deps.permissions.require(actor, 'community.members.role', params.id);
        previousRole = await deps.permissions.requireOutranks(actor, facts, params.userId);
        if (previousRole === null) throw notFound('That user is not a member of this community');
        if (rank(body.role) >= rank(deps.permissions.effectiveRole(actor, facts))) {
          throw forbidden('You can only give roles lower than your own');
        }
      }
      if (body.nickname !== undefined) {
        if (self) {
          await deps.permissions.require(actor, 'community.nickname.own', params.id);
        } else {
          const facts = await deps.permissions.require(actor, 'community.members.nickname', params.id);
          const target = await deps.permissions.requireOutranks(actor, facts, params.userId);
          if (target === null) throw notFound('That user is not a member of this community');
        }
      }
      const nickname = body.nickname === undefined ? undefined : body.nickname || null;
      const result = await deps.db
        .updateTable('community_members')
        .set({
          ...(body.role !== undefined ? { role: body.role } : {}),
          ...(nickname !== undefined ? { nickname } : {}),
        })
        .where('community_id', '=', params.id)
        .where('user_id', '=', params.userId)
        // The role checked above must still be the role changed (no race with a transfer).
        .$if(previousRole !== null, (q) => q.where('role', '=', previousRole!))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) {
        if (previousRole !== null) throw conflict('The member’s role changed meanwhile; reload and try again');
        throw notFound('That user is not a member of this community');
      }
      if (body.role !== undefined && body.role !== previousRole) {
        await deps.audit.record('member_role_changed', auditSource(request), {
          actorId: actor.userId,
          targetId: params.userId,
          details: { community_id: params.id, from: previousRole, to: body.role },
        });
        await publishToMember(deps, params.id, params.userId, { type: 'member.role_updated', role: body.role });
      }
      if (nickname !== undefined) {
        await publishToMember(deps, params.id, params.userId, { type: 'member.updated', nickname });
      }
      return memberView(params.id, params.userId);
    },
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/communities/:id/members/:userId',
      summary: 'Kick a member with a lower role out of the community and all its groups (community.members.kick)',
      tags,
      auth: true,
      params: MemberParams,
      errors: [403, 404],
    },
    async ({ actor, params, request }) => {
      const facts = await deps.permissions.require(actor, 'community.members.kick', params.id);
      const target = await deps.permissions.requireOutranks(actor, facts, params.userId);
      if (target === null) throw notFound('That user is not a member of this community');
      const removed = await deps.db.transaction().execute((trx) => removeMember(trx, params.id, params.userId));
      if (!removed.removed) throw notFound('That user is not a member of this community');
      await deps.audit.record('member_kicked', auditSource(request), {
        actorId: actor.userId,
        targetId: params.userId,
        details: { community_id: params.id, role: target },
      });
      await publishRemoval(deps, 'member.kicked', params.id, params.userId, removed.groupIds);
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/communities/:id/leave',
      summary: 'Leave the community and all its groups (community.leave); the owner must transfer or delete first',
      tags,
      auth: true,
      params: CommunityParams,
      errors: [403, 404, 409],
    },
    async ({ actor, params }) => {
      const facts = await deps.permissions.require(actor, 'community.leave', params.id);
      if (facts.community!.owner_id === actor.userId) {
        throw conflict('The owner cannot leave: transfer the community or delete it');
      }
      const removed = await deps.db.transaction().execute((trx) => removeMember(trx, params.id, actor.userId));
      if (!removed.removed) throw notFound('You are not a member of this community');
      await publishRemoval(deps, 'member.left', params.id, actor.userId, removed.groupIds);
    },
  );
}

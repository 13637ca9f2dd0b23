import { CreateGroupInvite, GroupInvite, GroupInviteList, GroupJoinResult } from '@chatalot/protocol';
import type { ExpressionBuilder } from 'kysely';
import { z } from 'zod';
import { newCommunityInviteCode } from '../communities/invite-routes.js';
import type { DB } from '../db/schema.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { GroupParams } from './group-routes.js';
import { publishMembership } from './publish.js';
import { loadGroup } from './repo.js';
import { toGroupInvite } from './views.js';

const tags = ['groups'];
const Code = z.string().min(1).max(64);
const INVALID = 'This group invite is not valid, used up or expired';

/** An invite that can still be used: not revoked, not expired, not used up. */
const usable = (now: number) => (eb: ExpressionBuilder<DB, 'group_invites'>) =>
  eb.and([
    eb('revoked_at', 'is', null),
    eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]),
    eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]),
  ]);

/**
 * Invites into groups (mostly private ones): create, list, revoke, and join by code. Only
 * members of the group's community can use one; a personal group's owner may invite only
 * once a community moderator allowed it (enforced by the permission module).
 */
export function registerGroupInviteRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/groups/:groupId/invites',
      summary: 'Create a group invite code (group.invites.create: group admins and community moderators)',
      tags,
      auth: true,
      params: GroupParams,
      body: CreateGroupInvite,
      response: GroupInvite,
      status: 201,
      errors: [400, 403, 404],
    },
    async ({ actor, params, body }) => {
      await deps.permissions.require(actor, 'group.invites.create', params.groupId);
      const now = deps.now();
      const row = {
        code: newCommunityInviteCode(),
        group_id: params.groupId,
        created_by: actor.userId,
        max_uses: body.max_uses ?? null,
        uses: 0,
        expires_at: body.expires_in_hours ? now + body.expires_in_hours * 3_600_000 : null,
        revoked_at: null,
        created_at: now,
      };
      await deps.db.insertInto('group_invites').values(row).execute();
      return toGroupInvite(row);
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/groups/:groupId/invites',
      summary: 'List a group’s invites, newest first (group.members.manage)',
      tags,
      auth: true,
      params: GroupParams,
      response: GroupInviteList,
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      await deps.permissions.require(actor, 'group.members.manage', params.groupId);
      const rows = await deps.db
        .selectFrom('group_invites')
        .selectAll()
        .where('group_id', '=', params.groupId)
        .orderBy('created_at', 'desc')
        .orderBy('code')
        .limit(500)
        .execute();
      return { invites: rows.map(toGroupInvite) };
    },
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/groups/:groupId/invites/:code',
      summary: 'Revoke an invite of this group (group.members.manage)',
      tags,
      auth: true,
      params: GroupParams.extend({ code: Code }),
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      await deps.permissions.require(actor, 'group.members.manage', params.groupId);
      // Scoped to the group in the path: another group's code is "not found".
      const result = await deps.db
        .updateTable('group_invites')
        .set({ revoked_at: deps.now() })
        .where('code', '=', params.code)
        .where('group_id', '=', params.groupId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw notFound('No such invite');
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/group-invites/:code/join',
      summary:
        'Join a group by invite (members of its community only, banned users refused; the use is counted atomically)',
      tags,
      auth: true,
      params: z.object({ code: Code }),
      response: GroupJoinResult,
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      const invite = await deps.db
        .selectFrom('group_invites as i')
        .innerJoin('groups as g', 'g.id', 'i.group_id')
        .select(['g.id', 'g.community_id'])
        .where('i.code', '=', params.code)
        .executeTakeFirst();
      if (!invite) throw notFound(INVALID);
      // The community must be the caller's: outsiders and banned users do not see it (404).
      const facts = await deps.permissions.require(actor, 'community.view', invite.community_id);
      if (facts.communityRole === null) throw forbidden('Join the group’s community first');
      const group = { id: invite.id, community_id: invite.community_id };
      const now = deps.now();
      const joined = await deps.db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('group_members')
          .values({ group_id: group.id, user_id: actor.userId, role: 'member', joined_at: now })
          .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
          .executeTakeFirst();
        // A member already: nothing to do, and the invite keeps its use.
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return false;
        // Counted with a conditional update, so `max_uses` holds under concurrent joins.
        const used = await trx
          .updateTable('group_invites')
          .set((eb) => ({ uses: eb('uses', '+', 1) }))
          .where('code', '=', params.code)
          .where(usable(now))
          .executeTakeFirst();
        if (Number(used.numUpdatedRows) !== 1) throw new AppError('not_found', INVALID);
        return true;
      });
      if (joined) await publishMembership(deps, 'member.joined', group, actor.userId);
      return { joined, group: await loadGroup(deps.db, group.id, actor.userId) };
    },
  );
}

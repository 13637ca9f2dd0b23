import { GroupJoinResult, GroupMember, GroupMemberList, UpdateGroupMember } from '@chatalot/protocol';
import { z } from 'zod';
import { auditSource } from '../audit/audit-log.js';
import { AppError, conflict, forbidden, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { requireOutranksInGroup } from './authorize.js';
import { GroupParams } from './group-routes.js';
import { publishMembership } from './publish.js';
import { groupMember, groupMembersQuery, loadGroup } from './repo.js';
import { toGroupMember } from './views.js';

const tags = ['groups'];
const MemberParams = GroupParams.extend({ userId: z.string().min(1).max(64) });

/** Joining and leaving groups, the member list, and group admins managing members. */
export function registerGroupMemberRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/groups/:groupId/join',
      summary: 'Join a public group of a community you belong to (group.join); private groups need a group invite',
      tags,
      auth: true,
      params: GroupParams,
      response: GroupJoinResult,
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      // Private groups are invisible (404) to community members outside them; banned users
      // and outsiders see no group at all.
      const facts = await deps.permissions.require(actor, 'group.join', params.groupId);
      const group = facts.group!;
      if (facts.banned) throw new AppError('banned', 'You are banned from this community');
      if (facts.communityRole === null) throw forbidden('Join the community first');
      if (group.visibility !== 'public') throw forbidden('This group is private: you need an invite');
      const inserted = await deps.db
        .insertInto('group_members')
        .values({ group_id: group.id, user_id: actor.userId, role: 'member', joined_at: deps.now() })
        .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
        .executeTakeFirst();
      const joined = Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
      if (joined) await publishMembership(deps, 'member.joined', group, actor.userId);
      return { joined, group: await loadGroup(deps.db, group.id, actor.userId) };
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/groups/:groupId/leave',
      summary: 'Leave a group (group.leave); the owner of a personal group cannot leave it',
      tags,
      auth: true,
      params: GroupParams,
      errors: [403, 404, 409],
    },
    async ({ actor, params }) => {
      const facts = await deps.permissions.require(actor, 'group.leave', params.groupId);
      const group = facts.group!;
      if (group.personal_owner_id === actor.userId) {
        throw conflict('This personal group was assigned to you; a moderator can delete it');
      }
      const left = await deps.db
        .deleteFrom('group_members')
        .where('group_id', '=', group.id)
        .where('user_id', '=', actor.userId)
        .executeTakeFirst();
      if (Number(left.numDeletedRows) !== 1) throw notFound('You are not a member of this group');
      await publishMembership(deps, 'member.left', group, actor.userId);
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/groups/:groupId/members',
      summary: 'List a group’s members with their group roles, by username (group.view)',
      tags,
      auth: true,
      params: GroupParams,
      response: GroupMemberList,
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      await deps.permissions.require(actor, 'group.view', params.groupId);
      const rows = await groupMembersQuery(deps.db, params.groupId).execute();
      return { members: rows.map(toGroupMember) };
    },
  );

  addRoute(
    ctx,
    {
      method: 'PATCH',
      url: '/api/groups/:groupId/members/:userId',
      summary:
        'Make a group member an admin or a plain member (group.members.manage; only on members standing below you)',
      tags,
      auth: true,
      params: MemberParams,
      body: UpdateGroupMember,
      response: GroupMember,
      errors: [400, 403, 404, 409],
    },
    async ({ actor, params, body, request }) => {
      const facts = await deps.permissions.require(actor, 'group.members.manage', params.groupId);
      const previous = await requireOutranksInGroup(deps, actor, facts, params.userId);
      // Conditional on the role checked above, so two concurrent changes cannot both apply.
      const updated = await deps.db
        .updateTable('group_members')
        .set({ role: body.role })
        .where('group_id', '=', params.groupId)
        .where('user_id', '=', params.userId)
        .where('role', '=', previous)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) throw conflict('The member changed meanwhile; reload and try again');
      if (body.role !== previous) {
        await deps.audit.record('member_role_changed', auditSource(request), {
          actorId: actor.userId,
          targetId: params.userId,
          details: { group_id: params.groupId, from: previous, to: body.role },
        });
        await publishMembership(deps, 'member.role_updated', facts.group!, params.userId, { role: body.role });
      }
      const row = await groupMember(deps.db, params.groupId, params.userId);
      if (!row) throw notFound('That user is not a member of this group');
      return toGroupMember(row);
    },
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/groups/:groupId/members/:userId',
      summary: 'Remove a member from a group (group.members.manage; only members standing below you)',
      tags,
      auth: true,
      params: MemberParams,
      errors: [403, 404],
    },
    async ({ actor, params, request }) => {
      const facts = await deps.permissions.require(actor, 'group.members.manage', params.groupId);
      const role = await requireOutranksInGroup(deps, actor, facts, params.userId);
      const removed = await deps.db
        .deleteFrom('group_members')
        .where('group_id', '=', params.groupId)
        .where('user_id', '=', params.userId)
        .executeTakeFirst();
      if (Number(removed.numDeletedRows) !== 1) throw notFound('That user is not a member of this group');
      await deps.audit.record('member_kicked', auditSource(request), {
        actorId: actor.userId,
        targetId: params.userId,
        details: { group_id: params.groupId, community_id: facts.group!.community_id, role },
      });
      await publishMembership(deps, 'member.kicked', facts.group!, params.userId);
    },
  );
}

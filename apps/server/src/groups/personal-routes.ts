import { CreatePersonalGroup, Group, UpdatePersonalGroup } from '@chatalot/protocol';
import { auditSource } from '../audit/audit-log.js';
import { badRequest, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { CommunityParams, GroupParams } from './group-routes.js';
import { publishGroupEvent } from './publish.js';
import { groupMemberIds, insertGroup, loadGroup } from './repo.js';

const tags = ['groups'];

/**
 * Personal groups (PRODUCT.md §3): a moderator assigns an isolated private group to one
 * member, who becomes its admin and controls its channels. Community moderators keep admin
 * rights there, and only they decide whether the owner may invite others.
 */
export function registerPersonalGroupRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/communities/:communityId/personal-groups',
      summary:
        'Assign a personal group to a member (community.groups.personal: moderators); it is private, undiscoverable and owned by that member',
      tags,
      auth: true,
      params: CommunityParams,
      body: CreatePersonalGroup,
      response: Group,
      status: 201,
      errors: [400, 403, 404, 409],
    },
    async ({ actor, params, body, request }) => {
      await deps.permissions.require(actor, 'community.groups.personal', params.communityId);
      const ownerRole = await deps.permissions.memberRole(params.communityId, body.user_id);
      if (ownerRole === null) throw notFound('That user is not a member of this community');
      const created = await deps.db.transaction().execute((trx) =>
        insertGroup(trx, {
          communityId: params.communityId,
          name: body.name,
          description: '',
          visibility: 'private',
          discoverable: false,
          createdBy: actor.userId,
          personalOwnerId: body.user_id,
          adminId: body.user_id,
          now: deps.now(),
        }),
      );
      await deps.audit.record('personal_group_assigned', auditSource(request), {
        actorId: actor.userId,
        targetId: body.user_id,
        details: { community_id: params.communityId, group_id: created.groupId, name: body.name },
      });
      const group = await loadGroup(deps.db, created.groupId, actor.userId);
      await publishGroupEvent(deps, group, { type: 'group.created', name: group.name }, created.memberIds);
      return group;
    },
  );

  addRoute(
    ctx,
    {
      method: 'PATCH',
      url: '/api/groups/:groupId/personal',
      summary:
        'Allow or stop the owner of a personal group inviting others (community.groups.personal.settings: community moderators, not the owner)',
      tags,
      auth: true,
      params: GroupParams,
      body: UpdatePersonalGroup,
      response: Group,
      errors: [400, 403, 404],
    },
    async ({ actor, params, body }) => {
      // Seeing the group first keeps private groups invisible; the decision itself belongs
      // to the community's moderators, never to the group's own admin.
      const facts = await deps.permissions.require(actor, 'group.preview', params.groupId);
      const group = facts.group!;
      await deps.permissions.require(actor, 'community.groups.personal.settings', group.community_id);
      if (group.personal_owner_id === null) throw badRequest('This is not a personal group');
      await deps.db
        .updateTable('groups')
        .set({ members_can_invite: body.members_can_invite ? 1 : 0, updated_at: deps.now() })
        .where('id', '=', group.id)
        .execute();
      const members = await groupMemberIds(deps.db, group.id);
      await publishGroupEvent(deps, group, { type: 'group.updated', fields: ['members_can_invite'] }, members);
      return loadGroup(deps.db, group.id, actor.userId);
    },
  );
}

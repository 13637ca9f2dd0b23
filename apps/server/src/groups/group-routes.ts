import { CreateGroup, DiscoverableGroupList, Group, GroupList, UpdateGroup } from '@chatalot/protocol';
import type { Updateable } from 'kysely';
import { z } from 'zod';
import { auditSource } from '../audit/audit-log.js';
import { releaseAssetIfUnused } from '../media/asset-usage.js';
import { assetUrl } from '../communities/views.js';
import type { GroupsTable } from '../db/schema.js';
import { badRequest, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { topics } from '../spaces/events.js';
import { can } from './authorize.js';
import { publishGroupEvent } from './publish.js';
import { addAllCommunityMembers, groupMemberIds, groupsQuery, insertGroup, loadGroup } from './repo.js';
import { toGroup } from './views.js';

export const CommunityParams = z.object({ communityId: z.string().min(1).max(64) });
export const GroupParams = z.object({ groupId: z.string().min(1).max(64) });
const tags = ['groups'];

/** Groups of a community: create, list, discover, read, update, delete. */
export function registerGroupCoreRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/communities/:communityId/groups',
      summary:
        'Create a group with a #general channel (community.groups.create: per who_can_create_groups); the creator becomes its admin and a public group receives every community member',
      tags,
      auth: true,
      params: CommunityParams,
      body: CreateGroup,
      response: Group,
      status: 201,
      errors: [400, 403, 404, 409],
    },
    async ({ actor, params, body }) => {
      const facts = await deps.permissions.require(actor, 'community.groups.create', params.communityId);
      const now = deps.now();
      const created = await deps.db.transaction().execute((trx) =>
        insertGroup(trx, {
          communityId: params.communityId,
          name: body.name,
          description: body.description ?? '',
          visibility: body.visibility,
          discoverable: body.discoverable ?? body.visibility === 'public',
          createdBy: actor.userId,
          personalOwnerId: null,
          // An instance admin outside the community creates it without joining it.
          adminId: facts.communityRole !== null && !facts.banned ? actor.userId : null,
          now,
        }),
      );
      const group = await loadGroup(deps.db, created.groupId, actor.userId);
      await publishGroupEvent(deps, group, { type: 'group.created', name: group.name }, created.memberIds);
      return group;
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/communities/:communityId/groups',
      summary:
        'List the groups the caller can see (community.view): public ones and private ones they belong to; community moderators and above see all',
      tags,
      auth: true,
      params: CommunityParams,
      response: GroupList,
      errors: [404],
    },
    async ({ actor, params }) => {
      await deps.permissions.require(actor, 'community.view', params.communityId);
      const seeAll = await can(deps, actor, 'community.groups.see_all', params.communityId);
      const rows = await groupsQuery(deps.db, actor.userId)
        .where('g.community_id', '=', params.communityId)
        .$if(!seeAll, (q) =>
          q.where((eb) => eb.or([eb('g.visibility', '=', 'public'), eb('me.user_id', 'is not', null)])),
        )
        .orderBy('g.created_at')
        .orderBy('g.id')
        .execute();
      return {
        groups: rows.map(({ my_role, member_count, ...g }) => toGroup(g, Number(member_count), my_role)),
      };
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/communities/:communityId/groups/discover',
      summary:
        'Discoverable groups the caller has not joined (community.view): public ones in full, private ones by name only (join them with a group invite); personal groups never',
      tags,
      auth: true,
      params: CommunityParams,
      response: DiscoverableGroupList,
      errors: [404],
    },
    async ({ actor, params }) => {
      await deps.permissions.require(actor, 'community.view', params.communityId);
      const rows = await groupsQuery(deps.db, actor.userId)
        .where('g.community_id', '=', params.communityId)
        .where('g.discoverable', '=', 1)
        .where('g.personal_owner_id', 'is', null)
        .where('me.user_id', 'is', null)
        .orderBy('g.name')
        .orderBy('g.id')
        .execute();
      return {
        groups: rows.map((g) =>
          g.visibility === 'public'
            ? {
                id: g.id,
                name: g.name,
                visibility: g.visibility,
                description: g.description,
                icon_url: assetUrl(g.icon_asset),
                accent_color: g.accent_color,
                member_count: Number(g.member_count),
              }
            : {
                id: g.id,
                name: g.name,
                visibility: g.visibility,
                description: null,
                icon_url: null,
                accent_color: null,
                member_count: null,
              },
        ),
      };
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/groups/:groupId',
      summary:
        'Read a group (group.preview: public groups for community members, private ones for their members and community moderators)',
      tags,
      auth: true,
      params: GroupParams,
      response: Group,
      errors: [404],
    },
    async ({ actor, params }) => {
      await deps.permissions.require(actor, 'group.preview', params.groupId);
      return loadGroup(deps.db, params.groupId, actor.userId);
    },
  );

  addRoute(
    ctx,
    {
      method: 'PATCH',
      url: '/api/groups/:groupId',
      summary:
        'Change a group’s name, description, visibility, discoverability or accent colour (group.update: group admins and community moderators)',
      tags,
      auth: true,
      params: GroupParams,
      body: UpdateGroup,
      response: Group,
      errors: [400, 403, 404],
    },
    async ({ actor, params, body }) => {
      const facts = await deps.permissions.require(actor, 'group.update', params.groupId);
      const group = facts.group!;
      // Personal groups stay isolated: private and out of the discover list.
      if (group.personal_owner_id !== null && (body.visibility === 'public' || body.discoverable === true)) {
        throw badRequest('A personal group stays private and undiscoverable');
      }
      const patch: Updateable<GroupsTable> = {};
      if (body.name !== undefined) patch.name = body.name;
      if (body.description !== undefined) patch.description = body.description;
      if (body.visibility !== undefined) patch.visibility = body.visibility;
      if (body.discoverable !== undefined) patch.discoverable = body.discoverable ? 1 : 0;
      if (body.accent_color !== undefined) patch.accent_color = body.accent_color;
      const fields = Object.keys(patch);
      if (fields.length === 0) throw badRequest('Nothing to change');
      const now = deps.now();
      const added = await deps.db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('groups')
          .set({ ...patch, updated_at: now })
          .where('id', '=', params.groupId)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) throw notFound('No such group');
        // A public group holds every community member.
        return body.visibility === 'public' && group.visibility === 'private'
          ? addAllCommunityMembers(trx, params.groupId, group.community_id, now)
          : [];
      });
      const view = await loadGroup(deps.db, params.groupId, actor.userId);
      const members = await groupMemberIds(deps.db, params.groupId);
      await publishGroupEvent(deps, view, { type: 'group.updated', fields }, members);
      for (const userId of added) {
        await deps.events.publish(
          { type: 'member.joined', community_id: group.community_id, group_id: group.id, user_id: userId },
          topics.group(group.id),
          topics.user(userId),
        );
      }
      return view;
    },
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/groups/:groupId',
      summary: 'Delete a group with its channels and invites (group.delete: group admins and community moderators)',
      tags,
      auth: true,
      params: GroupParams,
      errors: [403, 404],
    },
    async ({ actor, params, request }) => {
      const facts = await deps.permissions.require(actor, 'group.delete', params.groupId);
      const group = facts.group!;
      const members = await groupMemberIds(deps.db, params.groupId);
      const gone = await deps.db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('groups')
          .select(['name', 'icon_asset', 'banner_asset'])
          .where('id', '=', params.groupId)
          .executeTakeFirst();
        if (!row) throw notFound('No such group');
        const channels = await trx
          .selectFrom('channels')
          .select(['id', 'voice_background'])
          .where('group_id', '=', params.groupId)
          .execute();
        // Channels, members and invites go with it through ON DELETE CASCADE.
        await trx.deleteFrom('groups').where('id', '=', params.groupId).execute();
        return { row, channels };
      });
      const assets = [gone.row.icon_asset, gone.row.banner_asset, ...gone.channels.map((c) => c.voice_background)];
      for (const asset of new Set(assets)) {
        await releaseAssetIfUnused(deps.db, deps.assets, asset, null);
      }
      await deps.audit.record('group_deleted', auditSource(request), {
        actorId: actor.userId,
        targetId: params.groupId,
        details: { community_id: group.community_id, name: gone.row.name },
      });
      for (const { id: channelId } of gone.channels) {
        await deps.events.publish(
          { type: 'channel.deleted', community_id: group.community_id, group_id: group.id, channel_id: channelId },
          topics.channel(channelId),
        );
      }
      await publishGroupEvent(deps, group, { type: 'group.deleted' }, members);
    },
  );
}

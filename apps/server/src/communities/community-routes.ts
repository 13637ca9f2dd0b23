import { randomUUID } from 'node:crypto';
import { Community, CommunityList, CreateCommunity, TransferCommunity, UpdateCommunity } from '@chatalot/protocol';
import type { Updateable } from 'kysely';
import { z } from 'zod';
import { auditSource } from '../audit/audit-log.js';
import { isInstanceAdmin } from '../auth/authenticate.js';
import type { CommunitiesTable } from '../db/schema.js';
import { badRequest, conflict, forbidden, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { topics } from '../spaces/events.js';
import { insertGroup } from '../groups/repo.js';
import { releaseAssetIfUnused } from '../media/asset-usage.js';
import { addMember, listCommunitiesOf, loadCommunity, memberIds } from './repo.js';
import { themeForStorage } from './theme-field.js';

export const CommunityParams = z.object({ id: z.string().min(1).max(64) });
const tags = ['communities'];

/** Create, read, update, delete and transfer communities (`/api/communities…`). */
export function registerCommunityCoreRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/communities',
      summary: 'Create a community (COMMUNITY_CREATION_MODE: admin_only or open); the creator owns it',
      tags,
      auth: true,
      body: CreateCommunity,
      response: Community,
      status: 201,
      errors: [400, 403],
    },
    async ({ actor, body, request }) => {
      // An instance-level rule, not a place rule: there is no community to ask about yet.
      if (deps.config.communityCreationMode === 'admin_only' && !isInstanceAdmin(actor)) {
        throw forbidden('Only instance admins can create communities on this server');
      }
      const id = randomUUID();
      const now = deps.now();
      const general = await deps.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('communities')
          .values({
            id,
            name: body.name,
            description: body.description ?? '',
            icon_asset: null,
            banner_asset: null,
            owner_id: actor.userId,
            created_at: now,
            updated_at: now,
          })
          .execute();
        await addMember(trx, id, actor.userId, 'owner', now);
        // Every community starts with somewhere to talk: a public "General" group with #general,
        // which everyone who joins enters automatically.
        return insertGroup(trx, {
          communityId: id,
          name: 'General',
          description: '',
          visibility: 'public',
          discoverable: true,
          createdBy: actor.userId,
          personalOwnerId: null,
          adminId: actor.userId,
          now,
        });
      });
      await deps.audit.record('community_created', auditSource(request), {
        actorId: actor.userId,
        targetId: id,
        details: { name: body.name },
      });
      // The creator's open sockets (every device) start listening to the new community at once.
      await deps.events.publish(
        { type: 'member.joined', community_id: id, user_id: actor.userId, group_ids: [general.groupId] },
        topics.community(id),
        topics.user(actor.userId),
      );
      return loadCommunity(deps.db, id, actor.userId);
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/communities',
      summary: 'List the communities the caller belongs to, with their role',
      tags,
      auth: true,
      response: CommunityList,
    },
    async ({ actor }) => ({ communities: await listCommunitiesOf(deps.db, actor.userId) }),
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/communities/:id',
      summary: 'Read a community (community.view)',
      tags,
      auth: true,
      params: CommunityParams,
      response: Community,
      errors: [404],
    },
    async ({ actor, params }) => {
      await deps.permissions.require(actor, 'community.view', params.id);
      return loadCommunity(deps.db, params.id, actor.userId);
    },
  );

  addRoute(
    ctx,
    {
      method: 'PATCH',
      url: '/api/communities/:id',
      summary:
        'Change a community’s name, description, welcome message, policies, discoverability or theme (community.update)',
      tags,
      auth: true,
      params: CommunityParams,
      body: UpdateCommunity,
      response: Community,
      errors: [400, 403, 404],
    },
    async ({ actor, params, body, request }) => {
      await deps.permissions.require(actor, 'community.update', params.id);
      const patch: Updateable<CommunitiesTable> = {};
      if (body.name !== undefined) patch.name = body.name;
      if (body.description !== undefined) patch.description = body.description;
      if (body.welcome_message !== undefined) patch.welcome_message = body.welcome_message;
      if (body.discoverable !== undefined) patch.discoverable = body.discoverable ? 1 : 0;
      if (body.who_can_create_groups !== undefined) patch.who_can_create_groups = body.who_can_create_groups;
      if (body.who_can_create_invites !== undefined) patch.who_can_create_invites = body.who_can_create_invites;
      if (body.theme !== undefined) patch.theme = themeForStorage(body.theme, params.id);
      const fields = Object.keys(patch);
      if (fields.length === 0) throw badRequest('Nothing to change');
      await deps.db
        .updateTable('communities')
        .set({ ...patch, updated_at: deps.now() })
        .where('id', '=', params.id)
        .execute();
      await deps.audit.record('community_updated', auditSource(request), {
        actorId: actor.userId,
        targetId: params.id,
        details: { fields },
      });
      await deps.events.publish(
        { type: 'community.updated', community_id: params.id, fields },
        topics.community(params.id),
      );
      return loadCommunity(deps.db, params.id, actor.userId);
    },
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/communities/:id',
      summary: 'Delete a community with all its groups, channels, invites and bans (community.delete: owner)',
      tags,
      auth: true,
      params: CommunityParams,
      errors: [403, 404],
    },
    async ({ actor, params, request }) => {
      await deps.permissions.require(actor, 'community.delete', params.id);
      const members = await memberIds(deps.db, params.id);
      const assets = await deps.db.transaction().execute(async (trx) => {
        const community = await trx
          .selectFrom('communities')
          .select(['name', 'icon_asset', 'banner_asset'])
          .where('id', '=', params.id)
          .executeTakeFirst();
        if (!community) throw notFound('No such community');
        const groups = await trx
          .selectFrom('groups')
          .select(['icon_asset', 'banner_asset'])
          .where('community_id', '=', params.id)
          .execute();
        const backgrounds = await trx
          .selectFrom('channels as c')
          .innerJoin('groups as g', 'g.id', 'c.group_id')
          .select('c.voice_background')
          .where('g.community_id', '=', params.id)
          .where('c.voice_background', 'is not', null)
          .execute();
        // Everything inside goes with it through ON DELETE CASCADE.
        await trx.deleteFrom('communities').where('id', '=', params.id).execute();
        return {
          name: community.name,
          ids: [
            ...[community, ...groups].flatMap((r) => [r.icon_asset, r.banner_asset]),
            ...backgrounds.map((b) => b.voice_background),
          ],
        };
      });
      for (const asset of new Set(assets.ids)) await releaseAssetIfUnused(deps.db, deps.assets, asset, null);
      await deps.audit.record('community_deleted', auditSource(request), {
        actorId: actor.userId,
        targetId: params.id,
        details: { name: assets.name },
      });
      await deps.events.publish(
        { type: 'community.deleted', community_id: params.id },
        topics.community(params.id),
        ...members.map(topics.user),
      );
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/communities/:id/transfer',
      summary: 'Hand the community to another member (community.transfer: owner); the old owner becomes an admin',
      tags,
      auth: true,
      params: CommunityParams,
      body: TransferCommunity,
      response: Community,
      errors: [400, 403, 404, 409],
    },
    async ({ actor, params, body, request }) => {
      await deps.permissions.require(actor, 'community.transfer', params.id);
      if (body.user_id === actor.userId) throw badRequest('You own this community already');
      const targetRole = await deps.permissions.memberRole(params.id, body.user_id);
      if (targetRole === null) throw notFound('That user is not a member of this community');
      await deps.db.transaction().execute(async (trx) => {
        // Conditional on the caller still being the owner, so two transfers cannot both win.
        const moved = await trx
          .updateTable('communities')
          .set({ owner_id: body.user_id, updated_at: deps.now() })
          .where('id', '=', params.id)
          .where('owner_id', '=', actor.userId)
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) !== 1) throw conflict('The community changed hands meanwhile');
        const promoted = await trx
          .updateTable('community_members')
          .set({ role: 'owner' })
          .where('community_id', '=', params.id)
          .where('user_id', '=', body.user_id)
          .executeTakeFirst();
        if (Number(promoted.numUpdatedRows) !== 1) throw notFound('That user is not a member of this community');
        await trx
          .updateTable('community_members')
          .set({ role: 'admin' })
          .where('community_id', '=', params.id)
          .where('user_id', '=', actor.userId)
          .execute();
      });
      await deps.audit.record('community_transferred', auditSource(request), {
        actorId: actor.userId,
        targetId: body.user_id,
        details: { community_id: params.id, previous_role: targetRole },
      });
      const community = topics.community(params.id);
      await deps.events.publish(
        { type: 'community.updated', community_id: params.id, fields: ['owner_id'], owner_id: body.user_id },
        community,
      );
      for (const [userId, role] of [
        [body.user_id, 'owner'],
        [actor.userId, 'admin'],
      ] as const) {
        await deps.events.publish(
          { type: 'member.role_updated', community_id: params.id, user_id: userId, role },
          community,
          topics.user(userId),
        );
      }
      return loadCommunity(deps.db, params.id, actor.userId);
    },
  );
}

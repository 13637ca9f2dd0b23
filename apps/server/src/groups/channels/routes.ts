import { stat } from 'node:fs/promises';
import { Channel, ChannelList, ChannelMemberList, CreateChannel, UpdateChannel } from '@chatalot/protocol';
import type { Updateable } from 'kysely';
import { z } from 'zod';
import { auditSource } from '../../audit/audit-log.js';
import type { ChannelsTable } from '../../db/schema.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { addRoute, type RouteContext } from '../../http/route.js';
import { isAssetId } from '../../media/public-assets.js';
import type { Actor } from '../../auth/authenticate.js';
import { releaseAssetIfUnused } from '../../media/asset-usage.js';
import type { PlaceFacts } from '../../permissions/permissions.js';
import type { Action } from '../../permissions/rules.js';
import type { SpacesDeps } from '../../spaces/deps.js';
import { GroupParams } from '../group-routes.js';
import { publishChannelEvent } from '../publish.js';
import { insertChannel } from '../repo.js';
import { channelMembers, listChannels, loadChannel } from './repo.js';

const tags = ['channels'];
const ChannelParams = z.object({ channelId: z.string().min(1).max(64) });

/**
 * These routes manage group channels only: a DM (no group) is "not found" here even for its
 * members, whose DMs have their own routes. The check comes before the permission module's,
 * which would otherwise tell a DM's member "forbidden" for the actions that need more than
 * membership (update, delete).
 */
async function requireGroupChannel(
  deps: SpacesDeps,
  actor: Actor,
  action: Action,
  channelId: string,
): Promise<{ id: string; group_id: string; community_id: string }> {
  const row = await deps.db.selectFrom('channels').select('group_id').where('id', '=', channelId).executeTakeFirst();
  if (!row || row.group_id === null) throw notFound('No such channel');
  return groupChannel(await deps.permissions.require(actor, action, channelId));
}

function groupChannel(facts: PlaceFacts): { id: string; group_id: string; community_id: string } {
  const channel = facts.channel!;
  if (channel.group_id === null || !facts.group) throw notFound('No such channel');
  return { id: channel.id, group_id: channel.group_id, community_id: facts.group.community_id };
}

/** Group channels (text, voice, gallery): create, list, read, settings, delete, members. */
export function registerChannelRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/groups/:groupId/channels',
      summary:
        'Create a text, voice or gallery channel (group.channels.create: group admins and community moderators); at most 100 per group',
      tags,
      auth: true,
      params: GroupParams,
      body: CreateChannel,
      response: Channel,
      status: 201,
      errors: [400, 403, 404, 409],
    },
    async ({ actor, params, body }) => {
      const facts = await deps.permissions.require(actor, 'group.channels.create', params.groupId);
      const group = facts.group!;
      const id = await deps.db
        .transaction()
        .execute((trx) =>
          insertChannel(
            trx,
            group.id,
            { name: body.name, kind: body.kind, topic: body.topic ?? '' },
            actor.userId,
            deps.now(),
          ),
        );
      const channel = await loadChannel(deps.db, id);
      await publishChannelEvent(deps, { id, group_id: group.id }, group.community_id, {
        type: 'channel.created',
        kind: channel.kind,
        name: channel.name,
      });
      return channel;
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/groups/:groupId/channels',
      summary:
        'List a group’s channels (group.preview: members of the group and, for public groups, every community member)',
      tags,
      auth: true,
      params: GroupParams,
      response: ChannelList,
      errors: [404],
    },
    async ({ actor, params }) => {
      const facts = await deps.permissions.require(actor, 'group.preview', params.groupId);
      return { channels: await listChannels(deps.db, params.groupId, facts.group!.community_id) };
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/channels/:channelId',
      summary: 'Read a channel and its settings (channel.view)',
      tags,
      auth: true,
      params: ChannelParams,
      response: Channel,
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      await requireGroupChannel(deps, actor, 'channel.view', params.channelId);
      return loadChannel(deps.db, params.channelId);
    },
  );

  addRoute(
    ctx,
    {
      method: 'PATCH',
      url: '/api/channels/:channelId',
      summary:
        'Change a channel’s name, topic, read-only, slow mode, disappearing-message TTL or voice background, or archive it for good (channel.update: group admins and community moderators)',
      tags,
      auth: true,
      params: ChannelParams,
      body: UpdateChannel,
      response: Channel,
      errors: [400, 403, 404, 409],
    },
    async ({ actor, params, body }) => {
      const channel = await requireGroupChannel(deps, actor, 'channel.update', params.channelId);
      const before = await loadChannel(deps.db, channel.id);
      if (before.archived) throw conflict('This channel is archived: it is kept read-only and cannot change');
      if (body.voice_background != null) {
        if (before.kind !== 'voice') throw badRequest('Only voice channels have a background');
        if (isAssetId(body.voice_background) && !(await assetExists(deps, body.voice_background))) {
          throw badRequest('No such image for the voice background');
        }
      }
      const now = deps.now();
      const patch: Updateable<ChannelsTable> = {};
      if (body.name !== undefined) patch.name = body.name;
      if (body.topic !== undefined) patch.topic = body.topic;
      if (body.read_only !== undefined) patch.read_only = body.read_only ? 1 : 0;
      if (body.slow_mode_secs !== undefined) patch.slow_mode_secs = body.slow_mode_secs;
      if (body.message_ttl_secs !== undefined) patch.message_ttl_secs = body.message_ttl_secs;
      if (body.voice_background !== undefined) patch.voice_background = body.voice_background;
      if (body.archived) patch.archived_at = now;
      const fields = Object.keys(patch).map((f) => (f === 'archived_at' ? 'archived' : f));
      if (fields.length === 0) throw badRequest('Nothing to change');
      // Conditional on not being archived, so a concurrent archive wins cleanly.
      const updated = await deps.db
        .updateTable('channels')
        .set({ ...patch, updated_at: now })
        .where('id', '=', channel.id)
        .where('archived_at', 'is', null)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) throw conflict('This channel changed meanwhile; reload it');
      if (body.voice_background !== undefined) {
        await releaseAssetIfUnused(deps.db, deps.assets, before.voice_background, body.voice_background);
      }
      const view = await loadChannel(deps.db, channel.id);
      await publishChannelEvent(deps, channel, channel.community_id, {
        type: 'channel.updated',
        fields,
        channel: view,
      });
      return view;
    },
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/channels/:channelId',
      summary: 'Delete a channel and everything in it (channel.delete: group admins and community moderators)',
      tags,
      auth: true,
      params: ChannelParams,
      errors: [403, 404],
    },
    async ({ actor, params, request }) => {
      const channel = await requireGroupChannel(deps, actor, 'channel.delete', params.channelId);
      const before = await loadChannel(deps.db, channel.id);
      const deleted = await deps.db.deleteFrom('channels').where('id', '=', channel.id).executeTakeFirst();
      if (Number(deleted.numDeletedRows) !== 1) throw notFound('No such channel');
      await releaseAssetIfUnused(deps.db, deps.assets, before.voice_background, null);
      await deps.audit.record('channel_deleted', auditSource(request), {
        actorId: actor.userId,
        targetId: channel.id,
        details: { group_id: channel.group_id, community_id: channel.community_id, name: before.name },
      });
      await publishChannelEvent(deps, channel, channel.community_id, { type: 'channel.deleted' });
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/channels/:channelId/members',
      summary: 'List who is in a channel: its group’s members (channel.view)',
      tags,
      auth: true,
      params: ChannelParams,
      response: ChannelMemberList,
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      const channel = await requireGroupChannel(deps, actor, 'channel.view', params.channelId);
      return { members: await channelMembers(deps.db, channel) };
    },
  );
}

async function assetExists(deps: SpacesDeps, id: string): Promise<boolean> {
  try {
    return (await stat(deps.assets.path(id))).isFile();
  } catch {
    return false;
  }
}

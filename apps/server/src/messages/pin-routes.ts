import { MESSAGE_LIMITS, PinnedMessageList } from '@chatalot/protocol';
import type { Actor } from '../auth/authenticate.js';
import { AppError, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import { topics } from '../spaces/events.js';
import { ChannelParams, type MessageRoutesDeps, MessageParams, tags } from './deps.js';
import { isExpired, pinCount, pinnedMessages } from './queries.js';
import { findMessage, type MessageRow, withReactions } from './repo.js';

/**
 * Loads a message for pinning and checks who may pin there: in group channels `message.pin`
 * (group admins and community moderators and above), in DMs any member (`message.read`).
 * Archived channels cannot change.
 */
async function loadForPin(deps: MessageRoutesDeps, actor: Actor, messageId: string): Promise<MessageRow> {
  const row = await findMessage(deps.db, messageId);
  if (!row) throw notFound('No such message');
  const channel = await deps.db
    .selectFrom('channels')
    .select('group_id')
    .where('id', '=', row.channel_id)
    .executeTakeFirst();
  if (!channel) throw notFound('No such message');
  const facts = await deps.permissions.require(
    actor,
    channel.group_id === null ? 'message.read' : 'message.pin',
    row.channel_id,
  );
  if (facts.channel?.archived_at != null) throw new AppError('channel_archived', 'This channel is archived');
  return row;
}

/** Pins (PRODUCT.md §4): at most 50 per channel; events on the channel's topic after commit. */
export function registerPinRoutes(ctx: RouteContext, deps: MessageRoutesDeps): void {
  addRoute(
    ctx,
    {
      method: 'PUT',
      url: '/api/messages/:messageId/pin',
      summary:
        'Pin a message: in group channels message.pin (group admins and community moderators), in DMs any member; at most 50 per channel. Pinning twice changes nothing',
      tags,
      auth: true,
      params: MessageParams,
      errors: [403, 404, 409],
    },
    async ({ actor, params }) => {
      const row = await loadForPin(deps, actor, params.messageId);
      const now = deps.now();
      if (row.deleted_at !== null || isExpired(row, now)) throw notFound('No such message');
      if (row.pinned_at !== null) return;
      const pinned = await deps.db.transaction().execute(async (trx) => {
        // Takes the channel row's write lock (the database's, on SQLite) until commit, so two
        // pins in one channel cannot both see room for one more.
        await trx
          .updateTable('channels')
          .set((eb) => ({ last_seq: eb.ref('last_seq') }))
          .where('id', '=', row.channel_id)
          .execute();
        const current = await findMessage(trx, row.id);
        if (!current || current.deleted_at !== null) throw notFound('No such message');
        if (current.pinned_at !== null) return false;
        if ((await pinCount(trx, row.channel_id, now)) >= MESSAGE_LIMITS.pinsPerChannel) {
          throw new AppError('limit_reached', `A channel has at most ${MESSAGE_LIMITS.pinsPerChannel} pinned messages`);
        }
        const updated = await trx
          .updateTable('messages')
          .set({ pinned_at: now, pinned_by: actor.userId })
          .where('id', '=', row.id)
          .where('deleted_at', 'is', null)
          .where('pinned_at', 'is', null)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) throw notFound('No such message');
        return true;
      });
      if (!pinned) return;
      await deps.events.publish(
        {
          type: 'message.pinned',
          channel_id: row.channel_id,
          message_id: row.id,
          seq: Number(row.seq),
          pinned_by: actor.userId,
          pinned_at: now,
        },
        topics.channel(row.channel_id),
      );
    },
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/messages/:messageId/pin',
      summary:
        'Unpin a message: in group channels message.pin (group admins and community moderators), in DMs any member',
      tags,
      auth: true,
      params: MessageParams,
      errors: [403, 404, 409],
    },
    async ({ actor, params }) => {
      const row = await loadForPin(deps, actor, params.messageId);
      const updated = await deps.db
        .updateTable('messages')
        .set({ pinned_at: null, pinned_by: null })
        .where('id', '=', row.id)
        .where('pinned_at', 'is not', null)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return;
      await deps.events.publish(
        {
          type: 'message.unpinned',
          channel_id: row.channel_id,
          message_id: row.id,
          seq: Number(row.seq),
          unpinned_by: actor.userId,
        },
        topics.channel(row.channel_id),
      );
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/channels/:channelId/pins',
      summary:
        'A channel’s pinned messages (message.read), most recently pinned first, each with who pinned it and when',
      tags,
      auth: true,
      params: ChannelParams,
      response: PinnedMessageList,
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      await deps.permissions.require(actor, 'message.read', params.channelId);
      const rows = await pinnedMessages(deps.db, params.channelId, deps.now());
      const messages = await withReactions(deps.db, rows);
      return {
        messages: messages.map((message, i) => ({
          ...message,
          pinned_by: rows[i]!.pinned_by,
          pinned_at: Number(rows[i]!.pinned_at),
        })),
      };
    },
  );
}

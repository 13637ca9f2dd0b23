import { ChannelReadState, MESSAGE_LIMITS, ReadPositionList, ReadStateList } from '@chatalot/protocol';
import { z } from 'zod';
import { topicsOf } from '../gateway/access.js';
import { notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import { ChannelParams, type MessageRoutesDeps, tags } from './deps.js';
import { readStates } from './queries.js';
import { readPositions } from './receipts.js';

const MarkRead = z
  .object({ seq: z.number().int().min(0).describe('Read up to this seq (capped at the latest; never moves back).') })
  .meta({ id: 'MarkRead' });

/** Read cursors, unread counts and others' read positions (read receipts). */
export function registerReadRoutes(ctx: RouteContext, deps: MessageRoutesDeps): void {
  addRoute(
    ctx,
    {
      method: 'PUT',
      url: '/api/channels/:channelId/read',
      summary:
        'Mark a channel read up to a seq (message.read); the cursor never moves back. Answers the channel’s read state',
      tags,
      auth: true,
      params: ChannelParams,
      body: MarkRead,
      response: ChannelReadState,
      errors: [400, 403, 404],
    },
    async ({ actor, params, body }) => {
      await deps.messages.markRead(actor, params.channelId, body.seq);
      const [state] = await readStates(deps.db, actor.userId, [params.channelId], deps.now());
      if (!state) throw notFound('No such channel');
      return state;
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/read-states',
      summary:
        'The signed-in user’s read state in every channel they receive (their groups’ channels and their DMs): latest seq, read cursor, unread and mention counts',
      tags,
      auth: true,
      response: ReadStateList,
    },
    async ({ actor }) => {
      // The same channels the user's sockets hear (gateway/access.ts).
      const { channels } = await topicsOf(deps.db, actor.userId);
      return { channels: await readStates(deps.db, actor.userId, [...channels.values()], deps.now()) };
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/channels/:channelId/read-positions',
      summary: `How far the channel’s members who share read receipts have read (message.read): for DMs and channels of at most ${MESSAGE_LIMITS.receiptsMaxMembers} members; larger channels answer an empty list`,
      tags,
      auth: true,
      params: ChannelParams,
      response: ReadPositionList,
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      const facts = await deps.permissions.require(actor, 'message.read', params.channelId);
      return { positions: await readPositions(deps.db, facts.channel!) };
    },
  );
}

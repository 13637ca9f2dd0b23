import { HistoryQuery, Message, MessagePage, MessageVersions } from '@chatalot/protocol';
import { notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import { ChannelParams, type MessageRoutesDeps, MessageParams, tags } from './deps.js';
import { historyPage, isExpired, threadPage, versionsOf } from './queries.js';
import { withReactions } from './repo.js';

const ThreadQuery = HistoryQuery.pick({ after: true, limit: true });

/** Reading messages: history pages, one message, a thread, an edit history. */
export function registerHistoryRoutes(ctx: RouteContext, deps: MessageRoutesDeps): void {
  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/channels/:channelId/messages',
      summary:
        'A page of a channel’s history (message.read), ascending by seq: `after` a seq (below `before` if given too), the page just below `before`, or the newest page; at most 100; has_more says whether more lie in that direction. Deleted messages keep their place (deleted_at set, no body), so seqs stay gap-free; disappeared ones are left out',
      tags,
      auth: true,
      params: ChannelParams,
      query: HistoryQuery,
      response: MessagePage,
      errors: [400, 403, 404],
    },
    async ({ actor, params, query }) => {
      await deps.permissions.require(actor, 'message.read', params.channelId);
      const page = await historyPage(deps.db, params.channelId, query, deps.now());
      return { messages: await withReactions(deps.db, page.rows), has_more: page.hasMore };
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/messages/:messageId',
      summary: 'One message (message.read on its channel)',
      tags,
      auth: true,
      params: MessageParams,
      response: Message,
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      const { row } = await deps.messages.loadFor(actor, params.messageId, 'message.read');
      if (isExpired(row, deps.now())) throw notFound('No such message');
      const [message] = await withReactions(deps.db, [row]);
      return message!;
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/messages/:messageId/thread',
      summary:
        'The replies in a message’s thread (message.read on its channel), ascending by seq from `after`; at most 100',
      tags,
      auth: true,
      params: MessageParams,
      query: ThreadQuery,
      response: MessagePage,
      errors: [400, 403, 404],
    },
    async ({ actor, params, query }) => {
      const { row } = await deps.messages.loadFor(actor, params.messageId, 'message.read');
      const now = deps.now();
      if (isExpired(row, now)) throw notFound('No such message');
      const page = await threadPage(deps.db, row.id, query, now);
      return { messages: await withReactions(deps.db, page.rows), has_more: page.hasMore };
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/messages/:messageId/versions',
      summary:
        'A message’s edit history (message.read on its channel), oldest first; the last version is the current text. Deleted messages have none',
      tags,
      auth: true,
      params: MessageParams,
      response: MessageVersions,
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      const { row } = await deps.messages.loadFor(actor, params.messageId, 'message.read');
      if (isExpired(row, deps.now())) throw notFound('No such message');
      return { versions: await versionsOf(deps.db, row) };
    },
  );
}

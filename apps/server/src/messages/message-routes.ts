import { EditMessage, Message, MessageAck, Reaction, SendMessage } from '@chatalot/protocol';
import { addRoute, type RouteContext } from '../http/route.js';
import { ChannelParams, type MessageRoutesDeps, MessageParams, tags } from './deps.js';
import { findByNonce } from './repo.js';

// Registered (meta id) so the OpenAPI document refers to them and to MessageEncryption
// inside them as components.
const SendBody = SendMessage.omit({ channel_id: true }).meta({
  id: 'SendMessageRequest',
  description: 'A message to post; the channel comes from the path.',
});
const EditBody = EditMessage.omit({ message_id: true }).meta({ id: 'EditMessageRequest' });
/** The emoji comes URL-encoded in the path; Fastify decodes it, the protocol schema checks it. */
const ReactionParams = MessageParams.extend({ emoji: Reaction.shape.emoji });

/** Writing messages over REST: the same MessageService (and rules) as the WebSocket. */
export function registerMessageActionRoutes(ctx: RouteContext, deps: MessageRoutesDeps): void {
  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/channels/:channelId/messages',
      summary:
        'Send a message (message.send), for bots and webhooks; answers once the message is committed. Resending the same nonce creates nothing and answers 200 with the original acknowledgement',
      tags,
      auth: true,
      params: ChannelParams,
      body: SendBody,
      response: MessageAck,
      status: 201,
      errors: [400, 403, 404, 409, 429],
    },
    async ({ actor, params, body, reply }) => {
      const earlier = await findByNonce(deps.db, actor.userId, body.nonce);
      const ack = await deps.messages.send(actor, { ...body, channel_id: params.channelId });
      if (earlier?.id === ack.id) reply.status(200);
      return ack;
    },
  );

  addRoute(
    ctx,
    {
      method: 'PATCH',
      url: '/api/messages/:messageId',
      summary: 'Edit one’s own message within 15 minutes of sending it; every version is kept',
      tags,
      auth: true,
      params: MessageParams,
      body: EditBody,
      response: Message,
      errors: [400, 403, 404, 409],
    },
    async ({ actor, params, body }) => deps.messages.edit(actor, params.messageId, body.ciphertext),
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/messages/:messageId',
      summary:
        'Delete a message: one’s own, or anyone’s for moderators of its channel (channel.moderate). The body goes at once; the row keeps its seq until purged after 30 days',
      tags,
      auth: true,
      params: MessageParams,
      errors: [403, 404],
    },
    async ({ actor, params }) => deps.messages.delete(actor, params.messageId),
  );

  addRoute(
    ctx,
    {
      method: 'PUT',
      url: '/api/messages/:messageId/reactions/:emoji',
      summary:
        'React to a message (message.react on its channel); at most 20 different emoji per message. Reacting twice changes nothing',
      tags,
      auth: true,
      params: ReactionParams,
      errors: [400, 403, 404, 409],
    },
    async ({ actor, params }) => deps.messages.react(actor, params.messageId, params.emoji),
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/messages/:messageId/reactions/:emoji',
      summary: 'Take one’s reaction back (message.react on its channel)',
      tags,
      auth: true,
      params: ReactionParams,
      errors: [400, 403, 404],
    },
    async ({ actor, params }) => deps.messages.unreact(actor, params.messageId, params.emoji),
  );
}

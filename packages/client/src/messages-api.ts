import {
  MESSAGE_LIMITS,
  MessagePage,
  PinnedMessageList,
  ReadPositionList,
  type HistoryQuery,
  type Message,
  type PinnedMessage,
  type ReadPosition,
} from '@chatalot/protocol';
import type { z } from 'zod';
import type { AuthClient } from './auth-client.js';
import type { HttpClient } from './http-client.js';

export type MessagePageResult = z.infer<typeof MessagePage>;
export type HistoryQueryInput = Partial<z.input<typeof HistoryQuery>>;

/** Anything that makes typed requests: an AuthClient (signed in, refreshing) or a bare HttpClient. */
export type MessagesTransport = Pick<AuthClient, 'authed'> | Pick<HttpClient, 'request'>;

/**
 * Message history over REST (`GET /api/channels/:channelId/messages`): pages of at most 100,
 * by sequence number. Messages are sent over the WebSocket (GatewayClient); this is what a
 * client reads to fill gaps, to catch up after `resume.gap`, and to scroll back. Also a
 * channel's pins and how far its other members have read (read receipts).
 */
export class MessagesApi {
  constructor(private readonly transport: MessagesTransport) {}

  /** `after` a seq (ascending) or `before` it (the newest ones below it, still ascending). */
  history(channelId: string, query: HistoryQueryInput = {}): Promise<MessagePageResult> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const qs = params.toString();
    return this.get(`${channelPath(channelId)}/messages${qs ? `?${qs}` : ''}`, MessagePage);
  }

  /** Up to 100 messages after `seq`, ascending: what GatewayClient's `fetchHistory` wants. */
  async after(channelId: string, seq: number): Promise<Message[]> {
    return (await this.history(channelId, { after: seq, limit: MESSAGE_LIMITS.historyPage })).messages;
  }

  /** The channel's pinned messages, most recently pinned first, each with who pinned it and when. */
  async pins(channelId: string): Promise<PinnedMessage[]> {
    return (await this.get(`${channelPath(channelId)}/pins`, PinnedMessageList)).messages;
  }

  /**
   * How far the channel's members who share read receipts have read. The server keeps these
   * only for DMs and small channels (`MESSAGE_LIMITS.receiptsMaxMembers`); larger ones give none.
   */
  async readPositions(channelId: string): Promise<ReadPosition[]> {
    return (await this.get(`${channelPath(channelId)}/read-positions`, ReadPositionList)).positions;
  }

  private get<T extends z.ZodType>(path: string, response: T): Promise<z.output<T>> {
    const options = { response };
    return 'authed' in this.transport ? this.transport.authed(path, options) : this.transport.request(path, options);
  }
}

const channelPath = (channelId: string) => `/api/channels/${encodeURIComponent(channelId)}`;

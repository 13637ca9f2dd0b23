/**
 * The message routes the chat view reads besides history (apps/server/src/messages/*routes.ts):
 * one message, a thread's replies, a channel's pins, pinning, a message's edit history and how
 * far others have read. Every body is ciphertext: the caller decrypts through the E2E session.
 */
import { Message, MessagePage, MessageVersions, type PinnedMessage, type ReadPosition } from '@chatalot/protocol';
import { session } from '$lib/session.svelte';

const id = (value: string) => encodeURIComponent(value);

export function getMessage(messageId: string): Promise<Message> {
  return session.client.authed(`/api/messages/${id(messageId)}`, { response: Message });
}

/** Up to 100 replies in the thread of `rootId`, ascending, after `after` (a seq). */
export function threadPage(rootId: string, after?: number) {
  const query = `?limit=100${after !== undefined ? `&after=${after}` : ''}`;
  return session.client.authed(`/api/messages/${id(rootId)}/thread${query}`, { response: MessagePage });
}

/** A channel's pinned messages, most recently pinned first, each with who pinned it and when. */
export function listPins(channelId: string): Promise<PinnedMessage[]> {
  return session.client.messages.pins(channelId);
}

export async function setPinned(messageId: string, pinned: boolean): Promise<void> {
  await session.client.authed(`/api/messages/${id(messageId)}/pin`, { method: pinned ? 'PUT' : 'DELETE' });
}

/** Every version of a message's ciphertext, oldest first (the last is the current one). */
export async function listVersions(messageId: string) {
  return (await session.client.authed(`/api/messages/${id(messageId)}/versions`, { response: MessageVersions }))
    .versions;
}

/**
 * How far the channel's members who share read receipts have read (for DMs and channels of at
 * most `MESSAGE_LIMITS.receiptsMaxMembers` members; none for larger ones).
 */
export function readPositions(channelId: string): Promise<ReadPosition[]> {
  return session.client.messages.readPositions(channelId);
}

/**
 * The message routes the chat view reads besides history (apps/server/src/messages/*routes.ts):
 * one message, a thread's replies, a channel's pins, pinning, and a message's edit history.
 * Every body is ciphertext: the caller decrypts through the E2E session.
 */
import { Message, MessagePage, MessageVersions } from '@chatalot/protocol';
import { session } from '$lib/session.svelte';

/** `{ messages }`: the pins list has no `has_more`. */
const PinnedMessageList = MessagePage.pick({ messages: true });
const id = (value: string) => encodeURIComponent(value);

export function getMessage(messageId: string): Promise<Message> {
  return session.client.authed(`/api/messages/${id(messageId)}`, { response: Message });
}

/** Up to 100 replies in the thread of `rootId`, ascending, after `after` (a seq). */
export function threadPage(rootId: string, after?: number) {
  const query = `?limit=100${after !== undefined ? `&after=${after}` : ''}`;
  return session.client.authed(`/api/messages/${id(rootId)}/thread${query}`, { response: MessagePage });
}

/** A channel's pinned messages, most recently pinned first. */
export async function listPins(channelId: string): Promise<Message[]> {
  return (await session.client.authed(`/api/channels/${id(channelId)}/pins`, { response: PinnedMessageList })).messages;
}

export async function setPinned(messageId: string, pinned: boolean): Promise<void> {
  await session.client.authed(`/api/messages/${id(messageId)}/pin`, { method: pinned ? 'PUT' : 'DELETE' });
}

/** Every version of a message's ciphertext, oldest first (the last is the current one). */
export async function listVersions(messageId: string) {
  return (await session.client.authed(`/api/messages/${id(messageId)}/versions`, { response: MessageVersions }))
    .versions;
}

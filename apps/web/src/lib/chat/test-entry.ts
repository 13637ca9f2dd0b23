// Unit tests' chat entries: a message with every field the protocol has, decrypted to `content`.
import type { DecryptResult } from '@chatalot/client';
import type { Message } from '@chatalot/protocol';
import type { ChatEntry } from './conversation.svelte';

/** Message `id` at `seq` (sent by ada at seq × 1 s), with `fields` over the defaults. */
export function testEntry(
  id: string,
  seq: number,
  fields: Partial<Message> = {},
  content: { text: string; reply?: { message_id: string } } = { text: id },
): ChatEntry {
  const message: Message = {
    id,
    channel_id: 'c',
    seq,
    sender_id: 'ada',
    nonce: `n-${id}`,
    ciphertext: 'AAAA',
    encryption: { scheme: 'sender_key' },
    reply_to: null,
    thread_root: null,
    forwarded_from: null,
    mentions: [],
    mention_everyone: false,
    created_at: seq * 1000,
    edited_at: null,
    deleted_at: null,
    expires_at: null,
    reactions: [],
    pinned: false,
    ...fields,
  };
  const result = {
    status: 'ok',
    plaintext: content.text,
    content,
    verified: false,
    sender: { userId: message.sender_id, deviceId: 1 },
  } as DecryptResult;
  return { message, result };
}

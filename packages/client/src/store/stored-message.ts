/**
 * What the local message store keeps of one decrypted message: enough to search it, filter it
 * and show a result (the text, who sent it where and when, whether it carries files and their
 * names). Reactions, replies and the ciphertext stay with the server.
 */
import type { Message } from '@chatalot/protocol';
import { z } from 'zod';
import type { MessageContent } from '../e2e/content.js';

export interface StoredMessage {
  id: string;
  channel_id: string;
  sender_id: string;
  seq: number;
  created_at: number;
  /** When the text was last replaced (an edit); null if never. The newer version wins. */
  edited_at: number | null;
  /** Disappearing messages: gone from the store (and results) from then on. */
  expires_at: number | null;
  text: string;
  /** Names of the attached files (a message with files `has_file`). */
  file_names: string[];
  /** An action ("/me waves"); absent in plain messages and in blocks stored before actions. */
  action?: true;
}

/** The store keeps at most this much text of one message (a ciphertext is at most 64 KiB). */
export const MAX_STORED_TEXT = 64 * 1024;
const MAX_FILES = 64;

const Id = z.string().min(1).max(128);
export const StoredMessageSchema = z.object({
  id: Id,
  channel_id: Id,
  sender_id: Id,
  seq: z.number().int().positive(),
  created_at: z.number().int(),
  edited_at: z.number().int().nullable(),
  expires_at: z.number().int().nullable(),
  text: z.string().max(MAX_STORED_TEXT),
  file_names: z.array(z.string().max(1024)).max(MAX_FILES),
  action: z.literal(true).optional(),
});

/** The stored form of a message and what decrypting it gave. */
export function storedMessage(message: Message, content: MessageContent): StoredMessage {
  return {
    id: message.id,
    channel_id: message.channel_id,
    sender_id: message.sender_id,
    seq: message.seq,
    created_at: message.created_at,
    edited_at: message.edited_at,
    expires_at: message.expires_at,
    text: content.text.slice(0, MAX_STORED_TEXT),
    file_names: (content.attachments ?? []).slice(0, MAX_FILES).map((a) => a.name.slice(0, 1024)),
    ...(content.action ? { action: true as const } : {}),
  };
}

/**
 * Whether `next` should replace `current` (the same message): an edit never goes backwards,
 * and the same version again changes nothing (no block is rewritten for it).
 */
export function replaces(next: StoredMessage, current: StoredMessage): boolean {
  const a = next.edited_at ?? 0;
  const b = current.edited_at ?? 0;
  if (a !== b) return a > b;
  return (
    next.text !== current.text ||
    next.expires_at !== current.expires_at ||
    next.action !== current.action ||
    next.file_names.join('\n') !== current.file_names.join('\n')
  );
}

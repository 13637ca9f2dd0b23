/**
 * The plaintext inside every message ciphertext (channel and DM alike): UTF-8 JSON
 *
 *   {"v":1, "channel_id":"…", "text":"…", "reply"?:{…}, "attachments"?:[…], "action"?:true}
 *
 * `channel_id` binds the content to its channel: a receiver refuses content whose channel is
 * not the one the message arrived in (the server cannot move a DM ciphertext into another
 * conversation with the same devices). Unknown fields are ignored; another `v` is refused.
 * New optional fields therefore need no new version: `action` came later, and a client that
 * does not know it shows the text as a plain message.
 */
import { z } from 'zod';
import { fromUtf8, utf8 } from './bytes.js';
import { E2EError } from './errors.js';

export const CONTENT_VERSION = 1;

/** An encrypted file: the server stores the blob; key, name and type travel only in here. */
export interface Attachment {
  /** The server's id of the encrypted blob. */
  file_id: string;
  /** The 32-byte file key (unpadded base64url). */
  key: string;
  name: string;
  /** MIME type. */
  type: string;
  /** Plaintext size in bytes. */
  size: number;
  /** Optional small preview (a data: URL or base64), already stripped of metadata. */
  thumbnail?: string;
}

/** What a person wrote: text plus optional fields. */
export interface MessageContent {
  text: string;
  /** A quote of the message replied to (the server also knows `reply_to`, not its text). */
  reply?: { message_id: string; preview?: string };
  attachments?: Attachment[];
  /** An action ("/me waves"): shown as "* Name waves". Absent (never false) otherwise. */
  action?: true;
}

const Id = z.string().min(1).max(64);
const AttachmentSchema = z.object({
  file_id: Id,
  key: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  name: z.string().max(1024),
  type: z.string().max(255),
  size: z.number().int().min(0),
  thumbnail: z.string().optional(),
});
const ContentSchema = z.object({
  v: z.number().int(),
  channel_id: Id,
  text: z.string(),
  reply: z.object({ message_id: Id, preview: z.string().max(4096).optional() }).optional(),
  attachments: z.array(AttachmentSchema).max(64).optional(),
  action: z.boolean().optional(),
});

/** Encodes `content` for `channelId` (only the known fields are kept). */
export function encodeContent(channelId: string, content: MessageContent): Uint8Array {
  const wire: z.input<typeof ContentSchema> = { v: CONTENT_VERSION, channel_id: channelId, text: content.text };
  if (content.reply) wire.reply = content.reply;
  if (content.attachments) wire.attachments = content.attachments;
  if (content.action) wire.action = true;
  const parsed = ContentSchema.safeParse(wire);
  if (!parsed.success) throw new E2EError('invalid_format', `message content: ${parsed.error.issues[0]?.message}`);
  return utf8(JSON.stringify(parsed.data));
}

/** Decodes and checks content received in `channelId`. */
export function decodeContent(channelId: string, bytes: Uint8Array): MessageContent {
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new E2EError('invalid_format', 'message content is not JSON');
  }
  const v = (json as { v?: unknown } | null)?.v;
  if (typeof v === 'number' && v !== CONTENT_VERSION) {
    throw new E2EError('unsupported_version', `message content version ${v}`);
  }
  const parsed = ContentSchema.safeParse(json);
  if (!parsed.success) throw new E2EError('invalid_format', 'message content has the wrong shape');
  if (parsed.data.channel_id !== channelId) {
    throw new E2EError('invalid_format', 'message content belongs to another channel');
  }
  const out: MessageContent = { text: parsed.data.text };
  if (parsed.data.reply) out.reply = stripUndefined(parsed.data.reply);
  if (parsed.data.attachments) out.attachments = parsed.data.attachments.map(stripUndefined);
  if (parsed.data.action) out.action = true;
  return out;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

import { z } from 'zod';
import { LIMITS } from './limits.js';

/** Limits of messaging (PRODUCT.md §4 and §12). */
export const MESSAGE_LIMITS = {
  /** Own messages may be edited this long after they were sent. */
  editWindowMs: 15 * 60 * 1000,
  /** Soft-deleted messages are purged after this long. */
  purgeAfterMs: 30 * 24 * 60 * 60 * 1000,
  /** Distinct reaction emoji per message. */
  distinctReactions: 20,
  /** Pinned messages per channel. */
  pinsPerChannel: 50,
  /** Messages per history page. */
  historyPage: 100,
  /** Users named in one message's mention list. */
  mentions: 50,
  /** Longest client nonce. */
  nonceLength: 64,
  /** Longest reaction (one emoji, possibly with modifiers, or a :custom_name:). */
  reactionLength: 64,
  /** Read receipts ("Seen by") show in DMs and in channels of at most this many members. */
  receiptsMaxMembers: 20,
} as const;

const Id = z.string().min(1).max(64);

/** Standard base64 of at most `maxBytes` bytes (the server never looks inside). */
export function base64Bytes(maxBytes: number) {
  const maxChars = Math.ceil(maxBytes / 3) * 4;
  return z
    .string()
    .max(maxChars, `at most ${maxBytes} bytes`)
    .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be base64')
    .refine((s) => s.length > 0, 'must not be empty');
}

/** A message body: ciphertext as base64, at most 64 KiB of bytes. */
export const Ciphertext = base64Bytes(LIMITS.messageCiphertextBytes);

/**
 * How the body is encrypted, as far as routing needs to know. Every message is encrypted:
 * there is no plaintext scheme, so nothing can switch encryption off. `sender_key` for group
 * channels (Sender Keys, with the chain's distribution id so receivers find the key);
 * `pairwise` for DMs (Double Ratchet per device, all devices' ciphertexts packed by the client
 * into the one body).
 */
export const MessageEncryption = z
  .object({
    scheme: z.enum(['sender_key', 'pairwise']),
    /** Sender Keys: which of the sender's chains (distribution id) encrypted the body. */
    distribution_id: z.string().min(1).max(128).optional(),
    /** The sending device, so receivers pick the right session or chain. */
    device_id: z
      .number()
      .int()
      .min(1)
      .max(2 ** 32 - 1)
      .optional(),
  })
  .meta({ id: 'MessageEncryption' });

/** A message as clients receive it, live and from history. */
export const Message = z
  .object({
    id: z.string(),
    channel_id: z.string(),
    /** Per-channel sequence number: gap-free and increasing in commit order. */
    seq: z.number().int().positive(),
    sender_id: z.string(),
    nonce: z.string(),
    /** base64 ciphertext; empty once the message is deleted. */
    ciphertext: z.string(),
    encryption: MessageEncryption,
    reply_to: z.string().nullable(),
    /** The root of the thread this message belongs to (replies to replies point to the root). */
    thread_root: z.string().nullable(),
    /** The message this one forwards (re-encrypted by the client for this channel). */
    forwarded_from: z.string().nullable(),
    mentions: z.array(z.string()),
    mention_everyone: z.boolean(),
    created_at: z.number().int(),
    edited_at: z.number().int().nullable(),
    deleted_at: z.number().int().nullable(),
    /** Disappearing messages: when it will be removed. */
    expires_at: z.number().int().nullable(),
    reactions: z.array(z.object({ emoji: z.string(), user_ids: z.array(z.string()) })),
    pinned: z.boolean(),
  })
  .meta({ id: 'Message' });
export type Message = z.infer<typeof Message>;

/** What a client sends to post a message (WebSocket `message.send`, or REST for bots). */
export const SendMessage = z.object({
  channel_id: Id,
  /** Chosen by the client; the same (sender, nonce) never makes a second message. */
  nonce: z.string().min(8).max(MESSAGE_LIMITS.nonceLength),
  ciphertext: Ciphertext,
  encryption: MessageEncryption,
  reply_to: Id.optional(),
  forwarded_from: Id.optional(),
  mentions: z.array(Id).max(MESSAGE_LIMITS.mentions).optional(),
  /** @everyone / @here / @channel. */
  mention_everyone: z.boolean().optional(),
});
export type SendMessage = z.infer<typeof SendMessage>;

export const EditMessage = z.object({ message_id: Id, ciphertext: Ciphertext });
export const DeleteMessage = z.object({ message_id: Id });
export const Reaction = z.object({
  message_id: Id,
  emoji: z
    .string()
    .min(1)
    .max(MESSAGE_LIMITS.reactionLength)
    .refine((s) => ![...s].some((c) => c.trim() === '' || c.charCodeAt(0) < 0x20), 'one emoji, no spaces'),
});

/** The answer to a send: the message is committed. */
export const MessageAck = z
  .object({
    nonce: z.string(),
    id: z.string(),
    channel_id: z.string(),
    seq: z.number().int(),
    created_at: z.number().int(),
  })
  .meta({ id: 'MessageAck' });
export type MessageAck = z.infer<typeof MessageAck>;

/** History: the page after a sequence, the page just below one (`before`), or the newest page; always ascending, ≤100. */
export const HistoryQuery = z.object({
  before: z.coerce.number().int().positive().optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(MESSAGE_LIMITS.historyPage).default(50),
});
export const MessagePage = z
  .object({
    messages: z.array(Message).describe('Ascending by seq.'),
    /** True when more messages exist in the direction asked. */
    has_more: z.boolean(),
  })
  .meta({ id: 'MessagePage' });

/** A pinned message, with who pinned it and when. */
export const PinnedMessage = Message.extend({
  /** Who pinned it; null once that account is gone. */
  pinned_by: z.string().nullable(),
  pinned_at: z.number().int(),
}).meta({ id: 'PinnedMessage' });
export type PinnedMessage = z.infer<typeof PinnedMessage>;
export const PinnedMessageList = z
  .object({ messages: z.array(PinnedMessage).describe('Most recently pinned first.') })
  .meta({ id: 'PinnedMessageList' });

export const MessageVersion = z.object({ ciphertext: z.string(), created_at: z.number().int() });
export const MessageVersions = z
  .object({ versions: z.array(MessageVersion).describe('Oldest first; the last is the current text.') })
  .meta({ id: 'MessageVersions' });

/** Per channel: where the user has read up to, and what is unread. */
export const ChannelReadState = z
  .object({
    channel_id: z.string(),
    last_seq: z.number().int(),
    read_seq: z.number().int(),
    unread: z.number().int(),
    mentions: z.number().int(),
  })
  .meta({ id: 'ChannelReadState' });
export const ReadStateList = z.object({ channels: z.array(ChannelReadState) }).meta({ id: 'ReadStateList' });

/**
 * How far another member has read in a channel (read receipts), for members who share them:
 * in DMs and in channels of at most `MESSAGE_LIMITS.receiptsMaxMembers` members.
 */
export const ReadPosition = z
  .object({ user_id: z.string(), read_seq: z.number().int().min(0) })
  .meta({ id: 'ReadPosition' });
export type ReadPosition = z.infer<typeof ReadPosition>;
export const ReadPositionList = z.object({ positions: z.array(ReadPosition) }).meta({ id: 'ReadPositionList' });

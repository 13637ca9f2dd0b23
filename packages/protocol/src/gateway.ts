import { z } from 'zod';
import { AckDeviceMessages, SendDeviceMessages } from './device-messages.js';
import { DeviceId } from './keys.js';
import { DeleteMessage, EditMessage, Reaction, SendMessage } from './messages.js';

/** Timings and limits of the WebSocket gateway (PRODUCT.md §4). */
export const GATEWAY = {
  /** The `auth` frame must arrive this soon after the socket opens. */
  authTimeoutMs: 10_000,
  /** The server pings this often; a socket silent for `deadAfterMs` is closed. */
  heartbeatMs: 15_000,
  deadAfterMs: 45_000,
  /** Per-connection token bucket. */
  burst: 30,
  refillPerSec: 10,
  /** A socket with more than this many bytes unsent is closed (the client resumes). */
  maxBufferedBytes: 1024 * 1024,
  /** Resume replays at most this many messages per channel; beyond, the client pages history. */
  resumeWindow: 1000,
  /** Typing: at most one event per user and channel per interval; clients expire it after ttl. */
  typingIntervalMs: 3000,
  typingTtlMs: 10_000,
} as const;

/**
 * Close codes. 4000–4099 tell the client what to do next: `resume` codes mean reconnect (with
 * backoff) and resume; `stop` codes mean do not reconnect with the same credentials.
 */
export const CLOSE_CODES = {
  /** No valid `auth` frame in time, or the token was not accepted: sign in again. */
  unauthorized: 4001,
  /** The access token expired without an `auth.refresh`: refresh the token and reconnect. */
  tokenExpired: 4002,
  /** The session was signed out or the account suspended: do not reconnect. */
  sessionRevoked: 4003,
  /** The user already has the maximum number of sockets. */
  tooManySockets: 4004,
  /** More than 1 MiB was waiting to be sent: reconnect and resume. */
  slowConsumer: 4008,
  /** The server is restarting: reconnect and resume. */
  goingAway: 1001,
  /** The server failed (e.g. its database is unreachable): reconnect later with backoff. */
  serverError: 1011,
} as const;

const Ref = z.string().min(1).max(64);
const Id = z.string().min(1).max(64);

/** What the client has already seen of one channel, to resume from. */
export const ChannelCursor = z.object({ channel_id: Id, seq: z.number().int().min(0) });
const Cursors = z.array(ChannelCursor).max(5000);

export const PresenceStatus = z.enum(['online', 'idle', 'dnd', 'invisible']);

/**
 * Every frame a client may send: one object with an `op`, validated here and dispatched
 * through one table on the server. `ref` is echoed in the matching `ack` or `error`.
 */
export const ClientFrame = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('auth'),
    ref: Ref.optional(),
    token: z.string().min(1).max(4096),
    resume: Cursors.optional(),
    /** The key-service device this socket speaks for: it receives that device's `device.message` events. */
    device_id: DeviceId.optional(),
  }),
  z.object({ op: z.literal('auth.refresh'), ref: Ref.optional(), token: z.string().min(1).max(4096) }),
  z.object({ op: z.literal('resume'), ref: Ref.optional(), channels: Cursors }),
  z.object({ op: z.literal('message.send'), ref: Ref.optional(), ...SendMessage.shape }),
  z.object({ op: z.literal('message.edit'), ref: Ref.optional(), ...EditMessage.shape }),
  z.object({ op: z.literal('message.delete'), ref: Ref.optional(), ...DeleteMessage.shape }),
  z.object({ op: z.literal('reaction.add'), ref: Ref.optional(), ...Reaction.shape }),
  z.object({ op: z.literal('reaction.remove'), ref: Ref.optional(), ...Reaction.shape }),
  z.object({ op: z.literal('typing'), ref: Ref.optional(), channel_id: Id }),
  z.object({ op: z.literal('presence.set'), ref: Ref.optional(), status: PresenceStatus }),
  z.object({ op: z.literal('read'), ref: Ref.optional(), channel_id: Id, seq: z.number().int().min(0) }),
  z.object({ op: z.literal('device.send'), ref: Ref.optional(), ...SendDeviceMessages.shape }),
  z.object({ op: z.literal('device.ack'), ref: Ref.optional(), ...AckDeviceMessages.shape }),
  z.object({ op: z.literal('ping'), ref: Ref.optional() }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type ClientOp = ClientFrame['op'];

/** Sent once after a good `auth`: who you are and each channel's latest sequence. */
export interface ReadyFrame {
  type: 'ready';
  user_id: string;
  session_id: string;
  heartbeat_ms: number;
  channels: { channel_id: string; last_seq: number }[];
}

/** The answer to a frame that carried a `ref` (and to `message.send` always). */
export interface AckFrame {
  type: 'ack';
  ref: string | null;
  op: ClientOp;
  data: unknown;
}

export interface ErrorFrame {
  type: 'error';
  ref: string | null;
  op: string | null;
  code: string;
  message: string;
}

/** Resume: this channel is further behind than the window; page its history from `seq`. */
export interface ResumeGapFrame {
  type: 'resume.gap';
  channel_id: string;
  seq: number;
}

/**
 * The socket now also listens to these channels (joined a group or community, a channel was
 * created): live messages flow from `last_seq` on; anything earlier is in the history.
 */
export interface ChannelsAddedFrame {
  type: 'channels.added';
  channels: { channel_id: string; last_seq: number }[];
}

/** Resume finished: everything missed (within the window) has been sent. */
export interface ResumedFrame {
  type: 'resumed';
  ref: string | null;
}

/**
 * Events are the broker's events as published (`message.created`, `member.kicked`,
 * `channel.updated`, `typing`, `presence`, …), each an object with a `type`.
 */
export interface EventFrame {
  type: string;
  [field: string]: unknown;
}

export type ServerFrame =
  ReadyFrame | AckFrame | ErrorFrame | ResumeGapFrame | ResumedFrame | ChannelsAddedFrame | EventFrame;

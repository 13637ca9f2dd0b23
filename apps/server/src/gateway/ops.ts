import { CLOSE_CODES, GATEWAY, type ChannelCursor, type ClientFrame, type ClientOp } from '@chatalot/protocol';
import type { z } from 'zod';
import { AppError, badRequest } from '../errors.js';
import { messagesBetween, withReactions } from '../messages/repo.js';
import { topics } from '../spaces/events.js';
import { lastSeqs, topicsOf } from './access.js';
import type { Connection } from './connection.js';

type Frame<K extends ClientOp> = Extract<ClientFrame, { op: K }>;
type Handler<K extends ClientOp> = (conn: Connection, frame: Frame<K>) => Promise<unknown>;

/**
 * The one op table: every frame a signed-in socket may send, and what it does. A handler's
 * result is sent back as an `ack` (always for message.send; for the others when the frame
 * had a `ref`). Errors become `error` frames in the connection.
 */
const OPS: { [K in Exclude<ClientOp, 'auth'>]: Handler<K> } = {
  'auth.refresh': async (conn, frame) => {
    const { actor, expiresAt } = await conn.ctx.authenticator.withExpiry(frame.token);
    if (actor.userId !== conn.userId) throw badRequest('That token belongs to someone else');
    conn.renewExpiry(expiresAt);
    return { expires_at: expiresAt };
  },
  resume: async (conn, frame) => {
    await resume(conn, frame.channels);
    return null;
  },
  'message.send': (conn, frame) => {
    const { op: _op, ref: _ref, ...input } = frame;
    return conn.ctx.messages.send(conn.actor!, input);
  },
  'message.edit': (conn, frame) => conn.ctx.messages.edit(conn.actor!, frame.message_id, frame.ciphertext),
  'message.delete': (conn, frame) => conn.ctx.messages.delete(conn.actor!, frame.message_id),
  'reaction.add': (conn, frame) => conn.ctx.messages.react(conn.actor!, frame.message_id, frame.emoji),
  'reaction.remove': (conn, frame) => conn.ctx.messages.unreact(conn.actor!, frame.message_id, frame.emoji),
  typing: async (conn, frame) => {
    await conn.ctx.permissions.require(conn.actor!, 'message.read', frame.channel_id);
    if (!(await conn.ctx.presence.tryTyping(frame.channel_id, conn.userId, GATEWAY.typingIntervalMs))) return null;
    await conn.ctx.events.publish(
      { type: 'typing', channel_id: frame.channel_id, user_id: conn.userId, expires_in_ms: GATEWAY.typingTtlMs },
      topics.channel(frame.channel_id),
    );
    return null;
  },
  'presence.set': async (conn, frame) => {
    await conn.ctx.presence.setStatus(conn.userId, frame.status);
    return null;
  },
  read: async (conn, frame) => ({
    channel_id: frame.channel_id,
    seq: await conn.ctx.messages.markRead(conn.actor!, frame.channel_id, frame.seq),
  }),
  'device.send': (conn, frame) => {
    const { op: _op, ref: _ref, ...input } = frame;
    return conn.ctx.deviceMessages.send(conn.actor!, input);
  },
  'device.ack': async (conn, frame) => ({
    deleted: await conn.ctx.deviceMessages.ack(conn.actor!, frame.device_id, frame.ids),
  }),
  ping: async () => null,
};

export async function runOp(conn: Connection, frame: ClientFrame): Promise<void> {
  if (frame.op === 'auth') {
    await authenticate(conn, frame);
    return;
  }
  if (!conn.isOpen) throw new AppError('unauthorized', 'Send an auth frame first');
  if (frame.op === 'ping') {
    conn.send({ type: 'pong', ref: frame.ref ?? null });
    return;
  }
  const handler = OPS[frame.op] as Handler<typeof frame.op>;
  const data = await handler(conn, frame as never);
  if (frame.ref !== undefined || frame.op === 'message.send') {
    conn.send({ type: 'ack', ref: frame.ref ?? null, op: frame.op, data: data ?? null });
  }
}

/**
 * The first frame: checks the token, takes one of the user's socket slots, subscribes to every
 * topic the user may hear, then says `ready` with each channel's latest seq. Channels are held
 * back while this happens so no event overtakes `ready`; with `resume`, what was missed is
 * replayed before live events flow.
 */
async function authenticate(conn: Connection, frame: Frame<'auth'>): Promise<void> {
  if (conn.isOpen) throw badRequest('This socket is already signed in');
  const { ctx } = conn;
  let session;
  try {
    session = await ctx.authenticator.withExpiry(frame.token);
  } catch (err) {
    const stop = err instanceof AppError && (err.code === 'session_revoked' || err.code === 'account_suspended');
    conn.send({
      type: 'error',
      ref: frame.ref ?? null,
      op: 'auth',
      code: err instanceof AppError ? err.code : 'unauthorized',
      message: err instanceof AppError ? err.message : 'Sign in again',
    });
    conn.close(stop ? CLOSE_CODES.sessionRevoked : CLOSE_CODES.unauthorized, 'Authentication failed');
    return;
  }
  if (!conn.becomeOpen(session.actor, session.expiresAt)) return;
  conn.deviceId = frame.device_id ?? null;
  if (!(await ctx.presence.socketOpened(conn))) {
    conn.send({
      type: 'error',
      ref: frame.ref ?? null,
      op: 'auth',
      code: 'limit_reached',
      message: 'Too many open connections for this account',
    });
    conn.close(CLOSE_CODES.tooManySockets, 'Too many sockets');
    return;
  }
  // Closed meanwhile: its teardown already gave the socket slot back.
  if (!conn.isOpen) return;
  ctx.registry.addUser(conn);

  const access = await topicsOf(ctx.db, conn.userId);
  const channelIds = [...access.channels.values()];
  for (const id of channelIds) conn.replaying.set(id, []);
  await conn.applyTopics(access);
  const latest = await lastSeqs(ctx.db, channelIds);
  const cursors = new Map((frame.resume ?? []).map((c) => [c.channel_id, c.seq]));
  for (const id of channelIds) conn.seen.set(id, Math.min(cursors.get(id) ?? Infinity, latest.get(id) ?? 0));
  conn.send({
    type: 'ready',
    user_id: conn.userId,
    session_id: conn.sessionId,
    heartbeat_ms: GATEWAY.heartbeatMs,
    channels: channelIds.map((id) => ({ channel_id: id, last_seq: latest.get(id) ?? 0 })),
  });
  for (const [id, seq] of cursors) if (conn.replaying.has(id)) await replay(conn, id, seq);
  for (const id of channelIds) conn.flushReplay(id);
  if (frame.resume) conn.send({ type: 'resumed', ref: frame.ref ?? null });
}

/** `resume` on an open socket: replays each named channel from the client's seq. */
async function resume(conn: Connection, cursors: z.infer<typeof ChannelCursor>[]): Promise<void> {
  // One cursor per channel, the last one given (as in the auth frame).
  const wanted = new Map(cursors.map((c) => [c.channel_id, c.seq]));
  const mine = [...wanted].filter(([id]) => conn.seen.has(id) && !conn.replaying.has(id));
  for (const [id] of mine) conn.replaying.set(id, []);
  const ids = mine.map(([id]) => id);
  const latest = await lastSeqs(conn.ctx.db, ids);
  for (const [id, seq] of mine) {
    // A cursor past the channel's last seq must not hold back its live messages.
    conn.seen.set(id, Math.min(seq, latest.get(id) ?? 0));
    await replay(conn, id, seq);
    conn.flushReplay(id);
  }
}

/**
 * Sends a channel's messages after `after`, in order; past the resume window the client is
 * told to page the history instead and live delivery continues from the latest seq.
 */
async function replay(conn: Connection, channelId: string, after: number): Promise<void> {
  const { db } = conn.ctx;
  const rows = await messagesBetween(db, channelId, { after, limit: GATEWAY.resumeWindow + 1 });
  if (rows.length > GATEWAY.resumeWindow) {
    const latest = (await lastSeqs(db, [channelId])).get(channelId) ?? after;
    conn.send({ type: 'resume.gap', channel_id: channelId, seq: after });
    conn.seen.set(channelId, latest);
    return;
  }
  for (const message of await withReactions(db, rows)) {
    conn.sendMessageEvent(
      channelId,
      message.seq,
      JSON.stringify({ type: 'message.created', channel_id: channelId, seq: message.seq, message, replay: true }),
    );
  }
}

/**
 * Re-reads a user's access and applies it to one socket. New channels start from their latest
 * seq, and the client is told so (`channels.added`, like the channel list of `ready`): what
 * was posted before it could listen is in the history.
 */
export async function applyAccess(conn: Connection): Promise<void> {
  const access = await topicsOf(conn.ctx.db, conn.userId);
  const added = await conn.applyTopics(access);
  if (added.length === 0) return;
  const latest = await lastSeqs(conn.ctx.db, added);
  for (const id of added) if (!conn.seen.has(id)) conn.seen.set(id, latest.get(id) ?? 0);
  conn.send({
    type: 'channels.added',
    channels: added.map((id) => ({ channel_id: id, last_seq: conn.seen.get(id) ?? 0 })),
  });
}

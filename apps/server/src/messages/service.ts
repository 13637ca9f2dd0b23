import { randomUUID } from 'node:crypto';
import { MESSAGE_LIMITS, type Message, type MessageAck, type SendMessage } from '@chatalot/protocol';
import type { Kysely, Transaction } from 'kysely';
import type { Actor } from '../auth/authenticate.js';
import { isUniqueViolation } from '../db/errors.js';
import { PreparedQuery } from '../db/prepared.js';
import type { DB } from '../db/schema.js';
import { AppError, conflict, forbidden, notFound } from '../errors.js';
import type { PlaceFacts, Permissions } from '../permissions/permissions.js';
import { atLeast } from '../permissions/roles.js';
import type { SpaceEvents } from '../spaces/events.js';
import { topics } from '../spaces/events.js';
import { GroupCommit, NonceInFlight } from './group-commit.js';
import { sharesReadReceipts } from './receipts.js';
import { countReactions, findByNonce, findMessage, type MessageRow, toMessage, withReactions } from './repo.js';

export interface MessageServiceDeps {
  db: Kysely<DB>;
  permissions: Permissions;
  events: SpaceEvents;
  now: () => number;
}

/**
 * Sending, editing, deleting and reacting (PRODUCT.md §4), the same for the WebSocket and
 * REST. Every action is checked by the permission module against the message's own channel.
 * Events are published only after the change committed, on the channel's topic: the one
 * fan-out path for local and remote sockets.
 */
export class MessageService {
  /** Sends commit together, one transaction for those that arrive together. */
  private readonly store: GroupCommit;

  constructor(private readonly deps: MessageServiceDeps) {
    this.store = new GroupCommit(deps.db);
  }

  /**
   * Commits a message and acknowledges it. The same (sender, nonce) never makes a second
   * message: a retry, even a concurrent one, gets the original's ack. The insert joins the
   * group commit; the ack comes only once that commit succeeded.
   */
  async send(actor: Actor, input: SendMessage): Promise<MessageAck> {
    const existing = await findByNonce(this.deps.db, actor.userId, input.nonce);
    if (existing) return this.retryAck(existing, input.channel_id);

    const facts = await this.deps.permissions.require(actor, 'message.send', input.channel_id);
    const moderator = atLeast(this.deps.permissions.effectiveRole(actor, facts), 'moderator');
    // The permission check read the channel's settings too: one query for both.
    const channel = facts.channel!;
    if (channel.archived_at !== null) throw new AppError('channel_archived', 'This channel is archived');
    if (channel.read_only === 1 && !moderator) {
      throw new AppError('channel_read_only', 'Only moderators can post in this channel');
    }
    if (channel.group_id === null) await this.requireNoBlock(actor.userId, input.channel_id);
    const now = this.deps.now();
    if (channel.slow_mode_secs > 0 && !moderator) await this.requireSlowMode(actor.userId, channel, now);
    const threadRoot = input.reply_to ? await this.threadRootOf(input.reply_to, input.channel_id) : null;
    if (input.forwarded_from) await this.requireForwardable(actor, input.forwarded_from);

    const message = {
      id: randomUUID(),
      channel_id: input.channel_id,
      sender_id: actor.userId,
      nonce: input.nonce,
      ciphertext: input.ciphertext,
      scheme: input.encryption.scheme,
      distribution_id: input.encryption.distribution_id ?? null,
      device_id: input.encryption.device_id ?? null,
      reply_to: input.reply_to ?? null,
      thread_root: threadRoot,
      forwarded_from: input.forwarded_from ?? null,
      mentions: [...new Set(input.mentions ?? [])],
      mention_everyone: input.mention_everyone ?? false,
      created_at: now,
      expires_at: channel.message_ttl_secs ? now + channel.message_ttl_secs * 1000 : null,
    };
    let seq: number;
    try {
      seq = await this.store.insert(message);
    } catch (err) {
      // A concurrent retry with the same nonce won the race: answer with its message.
      const raced = isUniqueViolation(err) || err instanceof NonceInFlight;
      const winner = raced ? await findByNonce(this.deps.db, actor.userId, input.nonce) : undefined;
      if (winner) return this.retryAck(winner, input.channel_id);
      throw err;
    }
    const row: MessageRow = {
      ...message,
      seq,
      mentions: JSON.stringify(message.mentions),
      mention_everyone: message.mention_everyone ? 1 : 0,
      edited_at: null,
      deleted_at: null,
      pinned_at: null,
      pinned_by: null,
      reaction_count: 0,
    };
    await this.publish(input.channel_id, { type: 'message.created', seq, message: toMessage(row) });
    return { nonce: input.nonce, id: message.id, channel_id: input.channel_id, seq, created_at: now };
  }

  /** Replaces the body of one's own message within 15 minutes; every version is kept. */
  async edit(actor: Actor, messageId: string, ciphertext: string): Promise<Message> {
    const { row } = await this.loadFor(actor, messageId, 'message.read');
    if (row.sender_id !== actor.userId) throw forbidden('You can only edit your own messages');
    if (row.deleted_at !== null) throw notFound('No such message');
    const now = this.deps.now();
    if (now - Number(row.created_at) > MESSAGE_LIMITS.editWindowMs) {
      throw new AppError('edit_window_closed', 'Messages can be edited for 15 minutes after sending');
    }
    await this.requireWritable(row.channel_id);
    await this.deps.db.transaction().execute(async (trx) => {
      // The message row first: its write lock serializes concurrent edits (each then counts
      // the versions committed before it), and the condition keeps an edit racing a delete
      // from bringing the body back.
      const updated = await trx
        .updateTable('messages')
        .set({ ciphertext, edited_at: now })
        .where('id', '=', row.id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) throw notFound('No such message');
      const { count } = await trx
        .selectFrom('message_versions')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('message_id', '=', row.id)
        .executeTakeFirstOrThrow();
      const versions = Number(count);
      // The first edit also keeps the original, so the history is complete.
      if (versions === 0) {
        await trx
          .insertInto('message_versions')
          .values({ message_id: row.id, version: 0, ciphertext: row.ciphertext, created_at: Number(row.created_at) })
          .execute();
      }
      await trx
        .insertInto('message_versions')
        .values({ message_id: row.id, version: Math.max(versions, 1), ciphertext, created_at: now })
        .execute();
    });
    const [message] = await withReactions(this.deps.db, [(await findMessage(this.deps.db, row.id))!]);
    await this.publish(row.channel_id, { type: 'message.updated', message });
    return message!;
  }

  /**
   * Soft delete: the body and its versions are dropped at once, the row stays (so sequence
   * numbers stay gap-free in history) until the purge job removes it after 30 days.
   * Senders delete their own; moderators of the message's channel delete anyone's.
   */
  async delete(actor: Actor, messageId: string): Promise<void> {
    const { row } = await this.loadFor(actor, messageId, 'message.read');
    if (row.sender_id !== actor.userId) await this.deps.permissions.require(actor, 'channel.moderate', row.channel_id);
    if (row.deleted_at !== null) return;
    const now = this.deps.now();
    const deleted = await this.deps.db.transaction().execute(async (trx) => {
      // The message row first: an edit or reaction committing meanwhile is then either seen
      // (and removed below) or refused (it finds the message deleted).
      const updated = await trx
        .updateTable('messages')
        .set({ deleted_at: now, ciphertext: '', mentions: '[]', pinned_at: null, pinned_by: null, reaction_count: 0 })
        .where('id', '=', row.id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return false;
      await trx.deleteFrom('message_versions').where('message_id', '=', row.id).execute();
      await trx.deleteFrom('message_reactions').where('message_id', '=', row.id).execute();
      return true;
    });
    if (!deleted) return;
    await this.publish(row.channel_id, {
      type: 'message.deleted',
      message_id: row.id,
      seq: Number(row.seq),
      deleted_by: actor.userId,
    });
  }

  /** Adds a reaction; at most 20 distinct emoji per message. Adding it twice changes nothing. */
  async react(actor: Actor, messageId: string, emoji: string): Promise<void> {
    const { row } = await this.loadFor(actor, messageId, 'message.react');
    if (row.deleted_at !== null) throw notFound('No such message');
    const added = await this.deps.db.transaction().execute(async (trx) => {
      // Concurrent reactions cannot both see room for one more emoji, and none lands on a
      // message deleted meanwhile.
      if (!(await lockLiveMessage(trx, row.id))) throw notFound('No such message');
      const emojis = await trx
        .selectFrom('message_reactions')
        .select('emoji')
        .distinct()
        .where('message_id', '=', row.id)
        .execute();
      const known = emojis.some((e) => e.emoji === emoji);
      if (!known && emojis.length >= MESSAGE_LIMITS.distinctReactions) {
        throw new AppError(
          'limit_reached',
          `A message has at most ${MESSAGE_LIMITS.distinctReactions} different reactions`,
        );
      }
      const inserted = await trx
        .insertInto('message_reactions')
        .values({ message_id: row.id, user_id: actor.userId, emoji, created_at: this.deps.now() })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      await countReactions(trx, row.id, +1);
      return true;
    });
    if (!added) return;
    await this.publish(row.channel_id, { type: 'reaction.added', message_id: row.id, emoji, user_id: actor.userId });
  }

  async unreact(actor: Actor, messageId: string, emoji: string): Promise<void> {
    const { row } = await this.loadFor(actor, messageId, 'message.react');
    const removed = await this.deps.db.transaction().execute(async (trx) => {
      // The message row first, as react() and delete() take it: no lock-order deadlock.
      await lockLiveMessage(trx, row.id);
      const deleted = await trx
        .deleteFrom('message_reactions')
        .where('message_id', '=', row.id)
        .where('user_id', '=', actor.userId)
        .where('emoji', '=', emoji)
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) return false;
      await countReactions(trx, row.id, -1);
      return true;
    });
    if (!removed) return;
    await this.publish(row.channel_id, { type: 'reaction.removed', message_id: row.id, emoji, user_id: actor.userId });
  }

  /**
   * Moves the user's read cursor forward (never back) and returns where it now is. Their other
   * devices always learn of it (unread counts); the channel only when they share read receipts.
   */
  async markRead(actor: Actor, channelId: string, seq: number): Promise<number> {
    await this.deps.permissions.require(actor, 'message.read', channelId);
    const { last_seq } = await this.channelSettings(channelId);
    const target = Math.min(seq, Number(last_seq));
    const now = this.deps.now();
    // Two-argument max() is SQLite only (PostgreSQL has GREATEST); CASE works on both.
    const { read_seq: readSeq } = await this.deps.db
      .insertInto('read_states')
      .values({ channel_id: channelId, user_id: actor.userId, read_seq: target, updated_at: now })
      .onConflict((oc) =>
        oc.columns(['channel_id', 'user_id']).doUpdateSet((eb) => ({
          read_seq: eb
            .case()
            .when('read_states.read_seq', '>', target)
            .then(eb.ref('read_states.read_seq'))
            .else(target)
            .end(),
          updated_at: now,
        })),
      )
      .returning('read_seq')
      .executeTakeFirstOrThrow();
    const seqNow = Number(readSeq);
    const event = { type: 'read', channel_id: channelId, user_id: actor.userId, seq: seqNow };
    const targets = [topics.user(actor.userId)];
    if (await this.sharesReadReceipts(actor.userId)) targets.push(topics.channel(channelId));
    await this.deps.events.publish(event, ...targets);
    return seqNow;
  }

  /** Loads a message and checks `action` on the message's own channel. */
  async loadFor(
    actor: Actor,
    messageId: string,
    action: 'message.read' | 'message.react',
  ): Promise<{ row: MessageRow; facts: PlaceFacts }> {
    const row = await findMessage(this.deps.db, messageId);
    if (!row) throw notFound('No such message');
    const facts = await this.deps.permissions.require(actor, action, row.channel_id);
    return { row, facts };
  }

  private async publish(channelId: string, event: { type: string; [k: string]: unknown }): Promise<void> {
    await this.deps.events.publish({ ...event, channel_id: channelId }, topics.channel(channelId));
  }

  private retryAck(existing: MessageRow, channelId: string): MessageAck {
    if (existing.channel_id !== channelId) throw conflict('This nonce was already used for another message');
    return {
      nonce: existing.nonce,
      id: existing.id,
      channel_id: existing.channel_id,
      seq: Number(existing.seq),
      created_at: Number(existing.created_at),
    };
  }

  private async channelSettings(channelId: string) {
    const channel = await this.deps.db
      .selectFrom('channels')
      .select(['id', 'group_id', 'kind', 'read_only', 'archived_at', 'slow_mode_secs', 'message_ttl_secs', 'last_seq'])
      .where('id', '=', channelId)
      .executeTakeFirst();
    if (!channel) throw notFound('No such channel');
    return channel;
  }

  private async requireWritable(channelId: string): Promise<void> {
    const channel = await this.channelSettings(channelId);
    if (channel.archived_at !== null) throw new AppError('channel_archived', 'This channel is archived');
  }

  /** In a DM, a block in either direction between the sender and another member stops sending. */
  private async requireNoBlock(userId: string, channelId: string): Promise<void> {
    const block = await BLOCK_IN_DM.first(this.deps.db, { userId, channelId });
    if (block) throw new AppError('blocked', 'You cannot send messages to this conversation');
  }

  private async requireSlowMode(
    userId: string,
    channel: { id: string; slow_mode_secs: number },
    now: number,
  ): Promise<void> {
    const windowMs = channel.slow_mode_secs * 1000;
    const last = await this.deps.db
      .selectFrom('messages')
      .select('created_at')
      .where('channel_id', '=', channel.id)
      .where('sender_id', '=', userId)
      .where('created_at', '>', now - windowMs)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    if (!last) return;
    const retryAfter = Math.max(1, Math.ceil((Number(last.created_at) + windowMs - now) / 1000));
    throw new AppError('slow_mode', `Slow mode is on: wait ${retryAfter} s`, undefined, {
      'retry-after': String(retryAfter),
    });
  }

  /** Replies stay in their channel; a reply to a reply belongs to the first message's thread. */
  private async threadRootOf(replyTo: string, channelId: string): Promise<string> {
    const parent = await findMessage(this.deps.db, replyTo);
    if (!parent || parent.channel_id !== channelId) throw notFound('The message replied to is not in this channel');
    return parent.thread_root ?? parent.id;
  }

  /** Forwarding needs the original to be readable by the forwarder. */
  private async requireForwardable(actor: Actor, originalId: string): Promise<void> {
    const original = await findMessage(this.deps.db, originalId);
    if (!original || original.deleted_at !== null) throw notFound('No such message to forward');
    await this.deps.permissions.require(actor, 'message.read', original.channel_id);
  }

  private async sharesReadReceipts(userId: string): Promise<boolean> {
    const row = await this.deps.db
      .selectFrom('users')
      .select('preferences')
      .where('id', '=', userId)
      .executeTakeFirst();
    return sharesReadReceipts(row?.preferences);
  }
}

/**
 * A no-op write that takes the message row's lock until commit (every transaction that changes
 * a message's reactions takes it first). False when the message is gone or deleted.
 */
async function lockLiveMessage(trx: Transaction<DB>, messageId: string): Promise<boolean> {
  const locked = await trx
    .updateTable('messages')
    .set((eb) => ({ seq: eb.ref('seq') }))
    .where('id', '=', messageId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(locked.numUpdatedRows) > 0;
}

/** Another member of the DM who blocked the sender or whom the sender blocked (every DM send asks). */
const BLOCK_IN_DM = new PreparedQuery((db, p: { userId: string; channelId: string }) =>
  db
    .selectFrom('channel_members as cm')
    .innerJoin('user_blocks as b', (join) =>
      join.on((eb) =>
        eb.or([
          eb.and([eb('b.blocker_id', '=', p.userId), eb('b.blocked_id', '=', eb.ref('cm.user_id'))]),
          eb.and([eb('b.blocked_id', '=', p.userId), eb('b.blocker_id', '=', eb.ref('cm.user_id'))]),
        ]),
      ),
    )
    .select('cm.user_id')
    .where('cm.channel_id', '=', p.channelId)
    .where('cm.user_id', '!=', p.userId),
);

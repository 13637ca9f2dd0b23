import type { Message } from '@chatalot/protocol';
import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import { PreparedQuery, Variants } from '../db/prepared.js';
import type { DB, MessagesTable } from '../db/schema.js';

export type Db = Kysely<DB> | Transaction<DB>;
export type MessageRow = Selectable<MessagesTable>;

export interface NewMessage {
  id: string;
  channel_id: string;
  sender_id: string;
  nonce: string;
  ciphertext: string;
  scheme: 'sender_key' | 'pairwise';
  distribution_id: string | null;
  device_id: number | null;
  reply_to: string | null;
  thread_root: string | null;
  forwarded_from: string | null;
  mentions: string[];
  mention_everyone: boolean;
  created_at: number;
  expires_at: number | null;
}

/**
 * Rows per INSERT statement. SQLite keeps each distinct SQL text compiled (db/database.ts), and
 * every row count is a text of its own: whole chunks keep the variants to this many.
 */
const INSERT_CHUNK = 16;

/** The columns a new message sets; the rest (edited, deleted, pinned) start empty. */
const INSERTED_COLUMNS = [
  'id',
  'channel_id',
  'sender_id',
  'nonce',
  'ciphertext',
  'scheme',
  'distribution_id',
  'device_id',
  'reply_to',
  'thread_root',
  'forwarded_from',
  'mentions',
  'mention_everyone',
  'created_at',
  'expires_at',
  'seq',
] as const satisfies readonly (keyof MessagesTable)[];

/** INSERT of `count` messages, their values as arguments "row.column" (one compiled query per count). */
const INSERT_ROWS = new Variants(
  (count: number) =>
    new PreparedQuery((db, p: Record<string, unknown>) =>
      db
        .insertInto('messages')
        .values(
          Array.from(
            { length: count },
            (_, k) =>
              Object.fromEntries(
                INSERTED_COLUMNS.map((column) => [column, p[`${k}.${column}`]]),
              ) as Insertable<MessagesTable>,
          ),
        ),
    ),
  INSERT_CHUNK,
);

/**
 * Inserts messages, each with its channel's next sequence number, inside the caller's
 * transaction, and returns their seqs (in the order given). Incrementing `channels.last_seq`
 * takes the channel row's write lock (PostgreSQL) or the database write lock (SQLite) until
 * commit, so numbers are gap-free and follow commit order: a rolled-back insert rolls its
 * numbers back too. Messages of one channel get consecutive numbers in the order given.
 */
export async function insertMessages(trx: Transaction<DB>, messages: readonly NewMessage[]): Promise<number[]> {
  const seqs: number[] = [];
  const byChannel = new Map<string, number[]>();
  messages.forEach((m, i) => {
    const indexes = byChannel.get(m.channel_id);
    if (indexes) indexes.push(i);
    else byChannel.set(m.channel_id, [i]);
  });
  // Channel rows are locked in id order, so two processes' batches never wait on each other in a cycle.
  for (const channelId of [...byChannel.keys()].sort()) {
    const indexes = byChannel.get(channelId)!;
    const taken = await TAKE_SEQS.first(trx, { channelId, count: indexes.length });
    if (!taken) throw new Error(`channel ${channelId} is gone`);
    const last = taken.last_seq;
    const first = Number(last) - indexes.length + 1;
    indexes.forEach((index, k) => (seqs[index] = first + k));
  }
  for (let i = 0; i < messages.length; i += INSERT_CHUNK) {
    const chunk = messages.slice(i, i + INSERT_CHUNK);
    const args: Record<string, unknown> = {};
    chunk.forEach((m, k) => {
      const row = {
        ...m,
        seq: seqs[i + k]!,
        mentions: JSON.stringify(m.mentions),
        mention_everyone: m.mention_everyone ? 1 : 0,
      };
      for (const column of INSERTED_COLUMNS) args[`${k}.${column}`] = row[column];
    });
    await INSERT_ROWS.of(chunk.length).execute(trx, args);
  }
  return seqs;
}

/** One message with its channel's next sequence number, inside the caller's transaction. */
export async function insertMessage(trx: Transaction<DB>, m: NewMessage): Promise<number> {
  const [seq] = await insertMessages(trx, [m]);
  return seq!;
}

/** Advances a channel's last seq by `count` and returns the new value (the caller's transaction holds the lock). */
const TAKE_SEQS = new PreparedQuery((db, p: { channelId: string; count: number }) =>
  db
    .updateTable('channels')
    .set((eb) => ({ last_seq: eb('last_seq', '+', p.count) }))
    .where('id', '=', p.channelId)
    .returning('last_seq'),
);

const BY_NONCE = new PreparedQuery((db, p: { senderId: string; nonce: string }) =>
  db.selectFrom('messages').selectAll().where('sender_id', '=', p.senderId).where('nonce', '=', p.nonce),
);

export function findByNonce(db: Db, senderId: string, nonce: string): Promise<MessageRow | undefined> {
  return BY_NONCE.first(db, { senderId, nonce });
}

export function findMessage(db: Db, id: string): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Messages of one channel with seq in (after, before), ascending; `newest` takes the top end. */
export function messagesBetween(
  db: Db,
  channelId: string,
  range: { after?: number | undefined; before?: number | undefined; limit: number; newest?: boolean },
): Promise<MessageRow[]> {
  let q = db.selectFrom('messages').selectAll().where('channel_id', '=', channelId);
  if (range.after !== undefined) q = q.where('seq', '>', range.after);
  if (range.before !== undefined) q = q.where('seq', '<', range.before);
  return q
    .orderBy('seq', range.newest ? 'desc' : 'asc')
    .limit(range.limit)
    .execute()
    .then((rows) => (range.newest ? rows.reverse() : rows));
}

/** The reactions of `count` messages, by their ids as arguments "0", "1", … (one compiled query per count). */
const REACTIONS = new Variants(
  (count: number) =>
    new PreparedQuery((db, p: Record<string, string>) =>
      db
        .selectFrom('message_reactions')
        .select(['message_id', 'emoji', 'user_id'])
        .where(
          'message_id',
          'in',
          Array.from({ length: count }, (_, i) => p[String(i)]!),
        )
        .orderBy('created_at')
        .orderBy('user_id'),
    ),
);

/** Each message's reactions, grouped by emoji in the order they were first used. */
export async function reactionsOf(db: Db, messageIds: readonly string[]): Promise<Map<string, Message['reactions']>> {
  const result = new Map<string, Message['reactions']>();
  if (messageIds.length === 0) return result;
  const rows = await REACTIONS.of(messageIds.length).execute(
    db,
    Object.fromEntries(messageIds.map((id, i) => [String(i), id])),
  );
  for (const row of rows) {
    const list = result.get(row.message_id) ?? [];
    let entry = list.find((r) => r.emoji === row.emoji);
    if (!entry) {
      entry = { emoji: row.emoji, user_ids: [] };
      list.push(entry);
    }
    entry.user_ids.push(row.user_id);
    result.set(row.message_id, list);
  }
  return result;
}

/** Rows to the wire shape; deleted messages lose their body. */
export function toMessage(row: MessageRow, reactions: Message['reactions'] = []): Message {
  const deleted = row.deleted_at !== null;
  return {
    id: row.id,
    channel_id: row.channel_id,
    seq: Number(row.seq),
    sender_id: row.sender_id ?? '',
    nonce: row.nonce,
    ciphertext: deleted ? '' : row.ciphertext,
    encryption: {
      scheme: row.scheme,
      ...(row.distribution_id !== null ? { distribution_id: row.distribution_id } : {}),
      ...(row.device_id !== null ? { device_id: Number(row.device_id) } : {}),
    },
    reply_to: row.reply_to,
    thread_root: row.thread_root,
    forwarded_from: row.forwarded_from,
    mentions: deleted ? [] : (JSON.parse(row.mentions) as string[]),
    mention_everyone: !deleted && row.mention_everyone === 1,
    created_at: Number(row.created_at),
    edited_at: row.edited_at === null ? null : Number(row.edited_at),
    deleted_at: row.deleted_at === null ? null : Number(row.deleted_at),
    expires_at: row.expires_at === null ? null : Number(row.expires_at),
    reactions: deleted ? [] : reactions,
    pinned: row.pinned_at !== null,
  };
}

/**
 * Rows with their reactions, in the wire shape. Only messages whose `reaction_count` says they
 * have some are looked up (most have none; see migration 0009).
 */
export async function withReactions(db: Db, rows: MessageRow[]): Promise<Message[]> {
  const reacted = rows.filter((r) => Number(r.reaction_count) > 0).map((r) => r.id);
  const reactions = await reactionsOf(db, reacted);
  return rows.map((r) => toMessage(r, reactions.get(r.id)));
}

/**
 * Keeps `messages.reaction_count` in step with one reaction added (+1) or removed (-1); run
 * in the same transaction as that change, so the count is never below the truth.
 */
export async function countReactions(db: Db, messageId: string, delta: 1 | -1): Promise<void> {
  await db
    .updateTable('messages')
    .set((eb) => ({ reaction_count: eb('reaction_count', '+', delta) }))
    .where('id', '=', messageId)
    .execute();
}

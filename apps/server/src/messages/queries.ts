import type { ChannelReadState as ChannelReadStateSchema } from '@chatalot/protocol';
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { z } from 'zod';
import { PreparedQuery, Variants } from '../db/prepared.js';
import type { DB } from '../db/schema.js';
import type { Db, MessageRow } from './repo.js';

type ChannelReadState = z.infer<typeof ChannelReadStateSchema>;

/**
 * The read side of the REST message routes: history pages, threads, edit history, pins and
 * unread counts. Disappearing messages whose time has come are never returned, even before
 * the purge job removes them.
 */

/** Rows that have not disappeared yet (`expires_at` unset or still ahead). */
const live = (now: number) => (eb: ExpressionBuilder<DB, 'messages'>) =>
  eb.or([eb('messages.expires_at', 'is', null), eb('messages.expires_at', '>', now)]);

export interface Page {
  rows: MessageRow[];
  hasMore: boolean;
}

/**
 * One page of a channel's history, always ascending by seq. With `after`: the first `limit`
 * messages after it (bounded by `before` when both are given); otherwise the `limit` messages
 * just below `before`, or the newest page. `hasMore`: more exist in the direction asked.
 */
export async function historyPage(
  db: Db,
  channelId: string,
  q: { after?: number | undefined; before?: number | undefined; limit: number },
  now: number,
): Promise<Page> {
  const ascending = q.after !== undefined;
  const shape = `${ascending ? 'after' : ''}${q.before !== undefined ? 'before' : ''}`;
  const rows = await HISTORY_PAGES.of(shape).execute(db, {
    channelId,
    now,
    after: q.after ?? 0,
    before: q.before ?? 0,
    take: q.limit + 1,
  });
  const page = rows.slice(0, q.limit);
  return { rows: ascending ? page : page.reverse(), hasMore: rows.length > q.limit };
}

type PageArgs = { channelId: string; now: number; after: number; before: number; take: number };

/** The history page query for each combination of bounds (`after`, `before`, both, neither: the newest). */
const HISTORY_PAGES = new Variants(
  (shape: string) =>
    new PreparedQuery((db, p: PageArgs) => {
      let query = db.selectFrom('messages').selectAll().where('channel_id', '=', p.channelId).where(live(p.now));
      if (shape.includes('after')) query = query.where('seq', '>', p.after);
      if (shape.includes('before')) query = query.where('seq', '<', p.before);
      return query.orderBy('seq', shape.includes('after') ? 'asc' : 'desc').limit(p.take);
    }),
);

/** Replies in a thread (messages whose thread root is `rootId`), ascending from `after`. */
export async function threadPage(
  db: Db,
  rootId: string,
  q: { after?: number | undefined; limit: number },
  now: number,
): Promise<Page> {
  let query = db.selectFrom('messages').selectAll().where('thread_root', '=', rootId).where(live(now));
  if (q.after !== undefined) query = query.where('seq', '>', q.after);
  const rows = await query
    .orderBy('seq', 'asc')
    .limit(q.limit + 1)
    .execute();
  return { rows: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}

/**
 * Every version of a message, oldest first, the last being the current text. A message never
 * edited has one version (its text); a deleted one has none (its body and versions are gone).
 */
export async function versionsOf(db: Db, row: MessageRow): Promise<{ ciphertext: string; created_at: number }[]> {
  if (row.deleted_at !== null) return [];
  const versions = await db
    .selectFrom('message_versions')
    .select(['ciphertext', 'created_at'])
    .where('message_id', '=', row.id)
    .orderBy('version', 'asc')
    .execute();
  if (versions.length === 0) return [{ ciphertext: row.ciphertext, created_at: Number(row.created_at) }];
  return versions.map((v) => ({ ciphertext: v.ciphertext, created_at: Number(v.created_at) }));
}

/** Whether a message has disappeared (its `expires_at` has passed). */
export function isExpired(row: MessageRow, now: number): boolean {
  return row.expires_at !== null && Number(row.expires_at) <= now;
}

/** A channel's pinned messages, most recently pinned first. */
export function pinnedMessages(db: Db, channelId: string, now: number): Promise<MessageRow[]> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('channel_id', '=', channelId)
    .where('pinned_at', 'is not', null)
    .where('deleted_at', 'is', null)
    .where(live(now))
    .orderBy('pinned_at', 'desc')
    .orderBy('seq', 'desc')
    .execute();
}

/** How many messages of a channel are pinned (those shown by `pinnedMessages`). */
export async function pinCount(db: Db, channelId: string, now: number): Promise<number> {
  const { count } = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('channel_id', '=', channelId)
    .where('pinned_at', 'is not', null)
    .where('deleted_at', 'is', null)
    .where(live(now))
    .executeTakeFirstOrThrow();
  return Number(count);
}

/** Channels per query of `readStates`, well below every driver's parameter limit. */
const CHUNK = 500;

/**
 * The user's read state in each of the given channels (which the caller established they may
 * read), in that order: the channel's latest seq, the user's read cursor, how many messages
 * after it are unread (not deleted, not disappeared, not their own) and how many of those
 * mention them (by id, or @everyone/@here/@channel). Two queries per 500 channels.
 */
export async function readStates(
  db: Kysely<DB>,
  userId: string,
  channelIds: readonly string[],
  now: number,
): Promise<ChannelReadState[]> {
  const result: ChannelReadState[] = [];
  for (let i = 0; i < channelIds.length; i += CHUNK) {
    const chunk = channelIds.slice(i, i + CHUNK);
    const cursors = await db
      .selectFrom('channels as c')
      .leftJoin('read_states as rs', (join) => join.onRef('rs.channel_id', '=', 'c.id').on('rs.user_id', '=', userId))
      .select(['c.id', 'c.last_seq', 'rs.read_seq'])
      .where('c.id', 'in', chunk)
      .execute();
    const counts = await db
      .selectFrom('messages')
      .leftJoin('read_states as rs', (join) =>
        join.onRef('rs.channel_id', '=', 'messages.channel_id').on('rs.user_id', '=', userId),
      )
      .select((eb) => [
        'messages.channel_id',
        eb.fn.countAll<number>().as('unread'),
        eb.fn
          .sum<number>(
            eb
              .case()
              .when(
                eb.or([
                  eb('messages.mention_everyone', '=', 1),
                  // `mentions` is the JSON array the service wrote (JSON.stringify of ids), so the
                  // user's id appears quoted exactly when it is an element. User ids are UUIDs:
                  // no LIKE wildcards to escape.
                  eb('messages.mentions', 'like', `%${JSON.stringify(userId)}%`),
                ]),
              )
              .then(1)
              .else(0)
              .end(),
          )
          .as('mentions'),
      ])
      .where('messages.channel_id', 'in', chunk)
      .where((eb) => eb('messages.seq', '>', eb.fn.coalesce('rs.read_seq', eb.val(0))))
      .where('messages.deleted_at', 'is', null)
      .where((eb) => eb.or([eb('messages.sender_id', 'is', null), eb('messages.sender_id', '!=', userId)]))
      .where(live(now))
      .groupBy('messages.channel_id')
      .execute();
    const byChannel = new Map(cursors.map((c) => [c.id, c]));
    const countsBy = new Map(counts.map((c) => [c.channel_id, c]));
    for (const id of chunk) {
      const cursor = byChannel.get(id);
      if (!cursor) continue;
      const count = countsBy.get(id);
      result.push({
        channel_id: id,
        last_seq: Number(cursor.last_seq),
        read_seq: Number(cursor.read_seq ?? 0),
        unread: Number(count?.unread ?? 0),
        mentions: Number(count?.mentions ?? 0),
      });
    }
  }
  return result;
}

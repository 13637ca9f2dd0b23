import { MESSAGE_LIMITS, type ReadPosition } from '@chatalot/protocol';
import type { Db } from './repo.js';

/**
 * Read receipts (PRODUCT.md §4): others learn how far a member has read only when that member
 * shares read receipts (the `read_receipts` preference, on unless set to false), live through
 * the channel's `read` events (MessageService.markRead) and stored through `readPositions`.
 */

/** Whether a user's stored preferences (JSON) share read receipts. Unreadable ones do: the default. */
export function sharesReadReceipts(preferences: string | null | undefined): boolean {
  try {
    return (JSON.parse(preferences ?? '{}') as { read_receipts?: unknown } | null)?.read_receipts !== false;
  } catch {
    return true;
  }
}

/**
 * The read cursors of a channel's members who share read receipts, by user id. Only DMs (and
 * group DMs, small by their own limit) and group channels of at most
 * `MESSAGE_LIMITS.receiptsMaxMembers` members have them; larger channels answer none, as the
 * clients show none there. Members are the DM's members or the channel's group's members.
 */
export async function readPositions(db: Db, channel: { id: string; group_id: string | null }): Promise<ReadPosition[]> {
  if (channel.group_id !== null) {
    const { count } = await db
      .selectFrom('group_members')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('group_id', '=', channel.group_id)
      .executeTakeFirstOrThrow();
    if (Number(count) > MESSAGE_LIMITS.receiptsMaxMembers) return [];
  }
  const groupId = channel.group_id;
  const members =
    groupId === null
      ? db.selectFrom('channel_members').select('user_id').where('channel_id', '=', channel.id)
      : db.selectFrom('group_members').select('user_id').where('group_id', '=', groupId);
  const rows = await db
    .selectFrom('read_states as rs')
    .innerJoin('users as u', 'u.id', 'rs.user_id')
    .select(['rs.user_id', 'rs.read_seq', 'u.preferences'])
    .where('rs.channel_id', '=', channel.id)
    .where('rs.user_id', 'in', members)
    .orderBy('rs.user_id')
    .execute();
  return rows
    .filter((row) => sharesReadReceipts(row.preferences))
    .map((row) => ({ user_id: row.user_id, read_seq: Number(row.read_seq) }));
}

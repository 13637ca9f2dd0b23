import type { Community } from '@chatalot/protocol';
import type { Kysely, Transaction } from 'kysely';
import type { z } from 'zod';
import type { CommunityRole, DB } from '../db/schema.js';
import { notFound } from '../errors.js';
import { toCommunity } from './views.js';

type Db = Kysely<DB> | Transaction<DB>;

/** How many members a community has. */
export async function memberCount(db: Db, communityId: string): Promise<number> {
  const row = await db
    .selectFrom('community_members')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('community_id', '=', communityId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A community as `userId` sees it (their role, the member count); not_found if it is gone. */
export async function loadCommunity(db: Db, communityId: string, userId: string): Promise<z.input<typeof Community>> {
  const row = await db.selectFrom('communities').selectAll().where('id', '=', communityId).executeTakeFirst();
  if (!row) throw notFound('No such community');
  const me = await db
    .selectFrom('community_members')
    .select('role')
    .where('community_id', '=', communityId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return toCommunity(row, await memberCount(db, communityId), me?.role ?? null);
}

/** The communities a user belongs to, oldest membership first. */
export async function listCommunitiesOf(db: Db, userId: string): Promise<z.input<typeof Community>[]> {
  const rows = await db
    .selectFrom('community_members as m')
    .innerJoin('communities as c', 'c.id', 'm.community_id')
    .selectAll('c')
    .select(['m.role as my_role'])
    .select((eb) =>
      eb
        .selectFrom('community_members as all')
        .select((e) => e.fn.countAll().as('n'))
        .whereRef('all.community_id', '=', 'c.id')
        .as('member_count'),
    )
    .where('m.user_id', '=', userId)
    .orderBy('m.joined_at')
    .orderBy('c.id')
    .execute();
  return rows.map(({ my_role, member_count, ...row }) => toCommunity(row, Number(member_count), my_role));
}

/**
 * Adds a member and puts them in every public group of the community (PRODUCT.md §3).
 * Returns false, changing nothing, when they are a member already; concurrent joins of the
 * same user meet on the primary key, so at most one inserts.
 */
export async function addMember(
  trx: Db,
  communityId: string,
  userId: string,
  role: CommunityRole,
  now: number,
): Promise<{ added: boolean; groupIds: string[] }> {
  const inserted = await trx
    .insertInto('community_members')
    .values({ community_id: communityId, user_id: userId, role, nickname: null, joined_at: now })
    .onConflict((oc) => oc.columns(['community_id', 'user_id']).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return { added: false, groupIds: [] };
  const groups = await trx
    .selectFrom('groups')
    .select('id')
    .where('community_id', '=', communityId)
    .where('visibility', '=', 'public')
    .execute();
  const groupIds = groups.map((g) => g.id);
  if (groupIds.length > 0) {
    await trx
      .insertInto('group_members')
      .values(groupIds.map((group_id) => ({ group_id, user_id: userId, role: 'member' as const, joined_at: now })))
      .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
      .execute();
  }
  return { added: true, groupIds };
}

/**
 * Removes a user from the community and from every group in it (kick, ban, leave). Returns
 * whether they were a member and the groups they left, for the events.
 */
export async function removeMember(
  trx: Db,
  communityId: string,
  userId: string,
): Promise<{ removed: boolean; groupIds: string[] }> {
  const groups = await trx
    .selectFrom('group_members as gm')
    .innerJoin('groups as g', 'g.id', 'gm.group_id')
    .select('g.id')
    .where('g.community_id', '=', communityId)
    .where('gm.user_id', '=', userId)
    .execute();
  const groupIds = groups.map((g) => g.id);
  if (groupIds.length > 0) {
    await trx.deleteFrom('group_members').where('user_id', '=', userId).where('group_id', 'in', groupIds).execute();
  }
  const deleted = await trx
    .deleteFrom('community_members')
    .where('community_id', '=', communityId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return { removed: Number(deleted.numDeletedRows) === 1, groupIds };
}

/** The ids of a community's members (for events addressed to each of them). */
export async function memberIds(db: Db, communityId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('community_members')
    .select('user_id')
    .where('community_id', '=', communityId)
    .execute();
  return rows.map((r) => r.user_id);
}

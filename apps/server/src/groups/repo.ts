import { randomUUID } from 'node:crypto';
import { GROUP_LIMITS, type Group } from '@chatalot/protocol';
import type { Kysely, Transaction } from 'kysely';
import type { z } from 'zod';
import type { ChannelKind, DB } from '../db/schema.js';
import { AppError, notFound } from '../errors.js';
import { type GroupMemberRow, toGroup } from './views.js';

export type Db = Kysely<DB> | Transaction<DB>;

/** A group as `userId` sees it; not_found when it is gone. */
export async function loadGroup(db: Db, groupId: string, userId: string): Promise<z.input<typeof Group>> {
  const rows = await groupsQuery(db, userId).where('g.id', '=', groupId).execute();
  const row = rows[0];
  if (!row) throw notFound('No such group');
  const { my_role, member_count, ...group } = row;
  return toGroup(group, Number(member_count), my_role);
}

/** Groups with the caller's membership role and the member count, for lists. */
export function groupsQuery(db: Db, userId: string) {
  return db
    .selectFrom('groups as g')
    .leftJoin('group_members as me', (join) => join.onRef('me.group_id', '=', 'g.id').on('me.user_id', '=', userId))
    .selectAll('g')
    .select('me.role as my_role')
    .select((eb) =>
      eb
        .selectFrom('group_members as all')
        .select((e) => e.fn.countAll().as('n'))
        .whereRef('all.group_id', '=', 'g.id')
        .as('member_count'),
    );
}

/** Members of a group with their profile basics, by username. */
export function groupMembersQuery(db: Db, groupId: string) {
  return db
    .selectFrom('group_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.user_id', 'u.username', 'u.display_name', 'u.avatar_asset', 'm.role', 'm.joined_at'])
    .where('m.group_id', '=', groupId)
    .orderBy('u.username_lower');
}

export async function groupMember(db: Db, groupId: string, userId: string): Promise<GroupMemberRow | undefined> {
  return groupMembersQuery(db, groupId).where('m.user_id', '=', userId).executeTakeFirst();
}

/**
 * Takes the write lock of a parent row (a no-op update) so that counting its children and
 * inserting one cannot interleave with another transaction doing the same: a row lock on
 * PostgreSQL, the database write lock on SQLite.
 */
async function lockRow(trx: Transaction<DB>, table: 'communities' | 'groups', id: string): Promise<void> {
  const locked = await trx
    .updateTable(table)
    .set((eb) => ({ updated_at: eb.ref('updated_at') }))
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(locked.numUpdatedRows) !== 1) throw notFound(`No such ${table === 'groups' ? 'group' : 'community'}`);
}

export interface NewGroup {
  communityId: string;
  name: string;
  description: string;
  visibility: 'public' | 'private';
  discoverable: boolean;
  createdBy: string;
  /** Personal groups: the member who owns it. */
  personalOwnerId: string | null;
  /** Who becomes the group's admin (null: nobody, e.g. an instance admin outside the community). */
  adminId: string | null;
  now: number;
}

/**
 * Creates a group with its `#general` channel, its admin, and, when public, every current
 * community member (public groups hold all of them). Refuses past 200 groups per community.
 */
export async function insertGroup(
  trx: Transaction<DB>,
  g: NewGroup,
): Promise<{ groupId: string; channelId: string; memberIds: string[] }> {
  await lockRow(trx, 'communities', g.communityId);
  const count = await trx
    .selectFrom('groups')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('community_id', '=', g.communityId)
    .executeTakeFirstOrThrow();
  if (Number(count.n) >= GROUP_LIMITS.groupsPerCommunity) {
    throw new AppError('limit_reached', `A community can have at most ${GROUP_LIMITS.groupsPerCommunity} groups`);
  }
  const groupId = randomUUID();
  await trx
    .insertInto('groups')
    .values({
      id: groupId,
      community_id: g.communityId,
      name: g.name,
      description: g.description,
      visibility: g.visibility,
      discoverable: g.discoverable ? 1 : 0,
      icon_asset: null,
      banner_asset: null,
      accent_color: null,
      personal_owner_id: g.personalOwnerId,
      members_can_invite: 0,
      created_by: g.createdBy,
      created_at: g.now,
      updated_at: g.now,
    })
    .execute();
  if (g.adminId) {
    await trx
      .insertInto('group_members')
      .values({ group_id: groupId, user_id: g.adminId, role: 'admin', joined_at: g.now })
      .execute();
  }
  if (g.visibility === 'public') await addAllCommunityMembers(trx, groupId, g.communityId, g.now);
  const channelId = await insertChannel(trx, groupId, { name: 'general', kind: 'text', topic: '' }, g.createdBy, g.now);
  const members = await trx.selectFrom('group_members').select('user_id').where('group_id', '=', groupId).execute();
  return { groupId, channelId, memberIds: members.map((m) => m.user_id) };
}

/** Puts every community member into a (public) group; returns who was added. */
export async function addAllCommunityMembers(
  trx: Db,
  groupId: string,
  communityId: string,
  now: number,
): Promise<string[]> {
  const missing = await trx
    .selectFrom('community_members as cm')
    .select('cm.user_id')
    .where('cm.community_id', '=', communityId)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('group_members as gm')
            .select('gm.user_id')
            .whereRef('gm.user_id', '=', 'cm.user_id')
            .where('gm.group_id', '=', groupId),
        ),
      ),
    )
    .execute();
  if (missing.length === 0) return [];
  await trx
    .insertInto('group_members')
    .values(missing.map((m) => ({ group_id: groupId, user_id: m.user_id, role: 'member' as const, joined_at: now })))
    .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
    .execute();
  return missing.map((m) => m.user_id);
}

/**
 * Adds a channel at the end of a group, refusing past 100 per group. Call inside a
 * transaction: the group row is locked while counting.
 */
export async function insertChannel(
  trx: Transaction<DB>,
  groupId: string,
  c: { name: string; kind: Extract<ChannelKind, 'text' | 'voice' | 'gallery'>; topic: string },
  createdBy: string,
  now: number,
): Promise<string> {
  await lockRow(trx, 'groups', groupId);
  const stats = await trx
    .selectFrom('channels')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.max('position').as('last')])
    .where('group_id', '=', groupId)
    .executeTakeFirstOrThrow();
  if (Number(stats.n) >= GROUP_LIMITS.channelsPerGroup) {
    throw new AppError('limit_reached', `A group can have at most ${GROUP_LIMITS.channelsPerGroup} channels`);
  }
  const id = randomUUID();
  await trx
    .insertInto('channels')
    .values({
      id,
      group_id: groupId,
      kind: c.kind,
      name: c.name,
      topic: c.topic,
      position: stats.last === null ? 0 : Number(stats.last) + 1,
      dm_key: null,
      archived_at: null,
      message_ttl_secs: null,
      voice_background: null,
      created_by: createdBy,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/** The user ids of a group's members (for events addressed to each of them). */
export async function groupMemberIds(db: Db, groupId: string): Promise<string[]> {
  const rows = await db.selectFrom('group_members').select('user_id').where('group_id', '=', groupId).execute();
  return rows.map((r) => r.user_id);
}

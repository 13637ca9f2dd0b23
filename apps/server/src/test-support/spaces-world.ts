import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { CommunityRole, DB } from '../db/schema.js';
import type { TestApp } from './test-app.js';
import { createUser, type TestUser } from './users.js';

/** Who acts in the authorization matrix (PRODUCT.md §3 roles, plus the odd cases). */
export const ACTORS = [
  'anonymous',
  'outsider',
  'member',
  'groupMember',
  'moderator',
  'admin',
  'owner',
  'instanceAdmin',
  'banned',
  'suspended',
] as const;
export type ActorName = (typeof ACTORS)[number];

export interface CommunityIds {
  community: string;
  publicGroup: string;
  publicChannel: string;
  privateGroup: string;
  privateChannel: string;
  invite: string;
  groupInvite: string;
  /** One message in each channel: in A by `member` (public) and `groupMember` (private), in B by B's owner. */
  publicMessage: string;
  privateMessage: string;
}

/**
 * Two communities built straight in the database. In A: an owner, an admin, a moderator,
 * `member` (in the public group only), `groupMember` (also in the private group), a
 * suspended member and a banned ex-member; `outsider` belongs nowhere; `instanceAdmin` is an
 * instance admin in no community. B has its own owner and the same shape, for IDOR checks.
 * `dm` is a DM between `member` and `groupMember`; `dmMessage` is a message of `member` there.
 */
export interface SpacesWorld {
  users: Record<Exclude<ActorName, 'anonymous'> | 'ownerB' | 'target', TestUser>;
  a: CommunityIds;
  b: CommunityIds;
  dm: string;
  dmMessage: string;
}

export async function buildSpacesWorld(t: TestApp, tag: string): Promise<SpacesWorld> {
  const db = t.db.database.db;
  const name = (n: string) => `${n}_${tag}`.slice(0, 32);
  const users = {
    outsider: await createUser(t, name('outsider')),
    member: await createUser(t, name('member')),
    groupMember: await createUser(t, name('gmember')),
    moderator: await createUser(t, name('mod')),
    admin: await createUser(t, name('admin')),
    owner: await createUser(t, name('owner')),
    instanceAdmin: await createUser(t, name('iadmin'), { instanceRole: 'admin' }),
    banned: await createUser(t, name('banned')),
    suspended: await createUser(t, name('susp'), { suspended: true }),
    ownerB: await createUser(t, name('ownerb')),
    target: await createUser(t, name('target')),
  };
  // The instance has an owner already, so registration follows REGISTRATION_MODE.
  await db
    .insertInto('instance_settings')
    .values({ key: 'owner_user_id', value: users.instanceAdmin.id, updated_at: Date.now() })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const a = await community(db, users.owner.id, [
    [users.admin.id, 'admin'],
    [users.moderator.id, 'moderator'],
    [users.member.id, 'member'],
    [users.groupMember.id, 'member'],
    [users.suspended.id, 'member'],
    [users.target.id, 'member'],
  ]);
  await db
    .insertInto('group_members')
    .values({ group_id: a.privateGroup, user_id: users.groupMember.id, role: 'member', joined_at: Date.now() })
    .execute();
  await db
    .insertInto('community_bans')
    .values({
      community_id: a.community,
      user_id: users.banned.id,
      reason: 'test',
      banned_by: users.owner.id,
      created_at: Date.now(),
    })
    .execute();
  const b = await community(db, users.ownerB.id, []);
  const dm = await directMessage(db, users.member.id, users.groupMember.id);
  a.publicMessage = await message(db, a.publicChannel, users.member.id, 'sender_key');
  a.privateMessage = await message(db, a.privateChannel, users.groupMember.id, 'sender_key');
  b.publicMessage = await message(db, b.publicChannel, users.ownerB.id, 'sender_key');
  b.privateMessage = await message(db, b.privateChannel, users.ownerB.id, 'sender_key');
  const dmMessage = await message(db, dm, users.member.id, 'pairwise');
  return { users, a, b, dm, dmMessage };
}

async function community(db: Kysely<DB>, ownerId: string, members: [string, CommunityRole][]): Promise<CommunityIds> {
  const now = Date.now();
  const ids: CommunityIds = {
    community: randomUUID(),
    publicGroup: randomUUID(),
    publicChannel: randomUUID(),
    privateGroup: randomUUID(),
    privateChannel: randomUUID(),
    invite: randomUUID().replace(/-/g, '').slice(0, 12),
    groupInvite: randomUUID().replace(/-/g, '').slice(0, 12),
    publicMessage: '',
    privateMessage: '',
  };
  await db
    .insertInto('communities')
    .values({ id: ids.community, name: 'Community', owner_id: ownerId, created_at: now, updated_at: now })
    .execute();
  const all: [string, CommunityRole][] = [[ownerId, 'owner'], ...members];
  await db
    .insertInto('community_members')
    .values(
      all.map(([user_id, role]) => ({ community_id: ids.community, user_id, role, nickname: null, joined_at: now })),
    )
    .execute();
  for (const [group, visibility, channel] of [
    [ids.publicGroup, 'public', ids.publicChannel],
    [ids.privateGroup, 'private', ids.privateChannel],
  ] as const) {
    await db
      .insertInto('groups')
      .values({
        id: group,
        community_id: ids.community,
        name: visibility,
        visibility,
        icon_asset: null,
        banner_asset: null,
        accent_color: null,
        personal_owner_id: null,
        created_by: ownerId,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await db
      .insertInto('channels')
      .values({
        id: channel,
        group_id: group,
        kind: 'text',
        name: 'general',
        dm_key: null,
        message_ttl_secs: null,
        archived_at: null,
        voice_background: null,
        created_by: ownerId,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }
  // Public groups hold every community member; the private group only its owner so far.
  await db
    .insertInto('group_members')
    .values(
      all.map(([user_id]) => ({
        group_id: ids.publicGroup,
        user_id,
        role: user_id === ownerId ? 'admin' : 'member',
        joined_at: now,
      })),
    )
    .execute();
  await db
    .insertInto('group_members')
    .values({ group_id: ids.privateGroup, user_id: ownerId, role: 'admin', joined_at: now })
    .execute();
  await db
    .insertInto('community_invites')
    .values({
      code: ids.invite,
      community_id: ids.community,
      created_by: ownerId,
      max_uses: null,
      expires_at: null,
      revoked_at: null,
      created_at: now,
    })
    .execute();
  await db
    .insertInto('group_invites')
    .values({
      code: ids.groupInvite,
      group_id: ids.privateGroup,
      created_by: ownerId,
      max_uses: null,
      expires_at: null,
      revoked_at: null,
      created_at: now,
    })
    .execute();
  return ids;
}

async function directMessage(db: Kysely<DB>, a: string, b: string): Promise<string> {
  const id = randomUUID();
  const now = Date.now();
  await db
    .insertInto('channels')
    .values({
      id,
      group_id: null,
      kind: 'dm',
      dm_key: [a, b].sort().join(':'),
      message_ttl_secs: null,
      archived_at: null,
      voice_background: null,
      created_by: a,
      created_at: now,
      updated_at: now,
    })
    .execute();
  await db
    .insertInto('channel_members')
    .values([a, b].map((user_id) => ({ channel_id: id, user_id, joined_at: now })))
    .execute();
  return id;
}

/** A message inserted straight into a channel, taking the channel's next seq. */
async function message(
  db: Kysely<DB>,
  channelId: string,
  senderId: string,
  scheme: 'sender_key' | 'pairwise',
): Promise<string> {
  const id = randomUUID();
  const now = Date.now();
  await db.transaction().execute(async (trx) => {
    const { last_seq: seq } = await trx
      .updateTable('channels')
      .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
      .where('id', '=', channelId)
      .returning('last_seq')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('messages')
      .values({
        id,
        channel_id: channelId,
        seq,
        sender_id: senderId,
        nonce: `world-${id}`,
        ciphertext: Buffer.from(`hello from ${senderId}`).toString('base64'),
        scheme,
        distribution_id: null,
        device_id: null,
        reply_to: null,
        thread_root: null,
        forwarded_from: null,
        created_at: now,
        edited_at: null,
        deleted_at: null,
        expires_at: null,
        pinned_at: null,
        pinned_by: null,
      })
      .execute();
  });
  return id;
}

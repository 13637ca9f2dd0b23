import type { Kysely } from 'kysely';
import type { Actor } from '../auth/authenticate.js';
import type { CommunityRole, DB } from '../db/schema.js';
import { PreparedQuery } from '../db/prepared.js';
import { forbidden, notFound } from '../errors.js';
import { type PlaceRole, atLeast, highest, policyRole, rank } from './roles.js';
import { type Action, type PlaceKind, RULES } from './rules.js';

/** Everything the rules need to know about one place, read fresh for each check. */
export interface PlaceFacts {
  kind: PlaceKind;
  community: {
    id: string;
    owner_id: string;
    who_can_create_groups: 'everyone' | 'moderator' | 'admin';
    who_can_create_invites: 'everyone' | 'moderator' | 'admin';
  } | null;
  communityRole: CommunityRole | null;
  banned: boolean;
  group: {
    id: string;
    community_id: string;
    visibility: 'public' | 'private';
    personal_owner_id: string | null;
    members_can_invite: number;
  } | null;
  groupRole: 'admin' | 'member' | null;
  channel: {
    id: string;
    kind: string;
    group_id: string | null;
    read_only: number;
    archived_at: number | null;
    slow_mode_secs: number;
    message_ttl_secs: number | null;
  } | null;
  /** For DMs: whether the actor is one of its members. */
  channelMember: boolean;
}

const isInstanceAdmin = (actor: Actor) => actor.instanceRole === 'owner' || actor.instanceRole === 'admin';

/**
 * The one permission module. The effective role of a user in a place is the highest of:
 * their instance role (instance admins act as admins everywhere, never as owners), their
 * community role, and their group role (a personal group's member owns it as its admin).
 * Roles are read from the database on every check, so changes apply at once.
 */
export class Permissions {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Checks `action` on the place with id `placeId` and returns its facts. A place the actor
   * cannot see at all answers `not_found` (no probing for ids); a visible place where the role
   * is too low answers `forbidden`.
   */
  async require(actor: Actor, action: Action, placeId: string): Promise<PlaceFacts> {
    const rule = RULES[action];
    const facts = await this.facts(actor, rule.place, placeId);
    const role = this.effectiveRole(actor, facts);
    if (!this.canSee(actor, facts, role)) throw notFound(`No such ${rule.place}`);
    const need = typeof rule.need === 'string' ? rule.need : policyRole(facts.community![rule.need.policy]);
    if (!atLeast(role, need)) throw forbidden(`You need to be ${article(need)} here to do that`);
    if (action === 'group.invites.create') this.requirePersonalGroupInvites(actor, facts);
    return facts;
  }

  /**
   * In a personal group the member it belongs to is its admin, but only community moderators
   * decide whether that member may invite others.
   */
  private requirePersonalGroupInvites(actor: Actor, facts: PlaceFacts): void {
    const group = facts.group!;
    if (group.personal_owner_id === null || group.members_can_invite === 1) return;
    const community: PlaceRole = facts.banned ? 'none' : (facts.communityRole ?? 'none');
    if (isInstanceAdmin(actor) || atLeast(community, 'moderator')) return;
    throw forbidden('A moderator has not allowed invites to this personal group');
  }

  /** The actor's effective role in a place whose facts were loaded. */
  effectiveRole(actor: Actor, facts: PlaceFacts): PlaceRole {
    if (facts.channel && facts.channel.group_id === null) {
      // DMs: only their members, and nobody else, ever.
      return facts.channelMember ? 'member' : 'none';
    }
    const instance: PlaceRole = isInstanceAdmin(actor) ? 'admin' : 'none';
    const community: PlaceRole = facts.banned ? 'none' : (facts.communityRole ?? 'none');
    if (facts.kind === 'community' || !facts.group) return highest(instance, community);

    // In a group: community moderators and above keep their role; members need the group.
    const fromCommunity: PlaceRole = atLeast(community, 'moderator') ? community : 'none';
    const personalOwner: PlaceRole =
      facts.group.personal_owner_id === actor.userId && community !== 'none' ? 'admin' : 'none';
    const fromGroup: PlaceRole =
      community === 'none'
        ? 'none'
        : facts.groupRole === 'admin'
          ? 'admin'
          : facts.groupRole === 'member'
            ? 'member'
            : 'none';
    return highest(instance, fromCommunity, personalOwner, fromGroup);
  }

  /**
   * Whether the place exists for this actor: communities and public groups for their
   * community's members, private groups and their channels for their members and moderators,
   * DMs for their members only.
   */
  private canSee(actor: Actor, facts: PlaceFacts, role: PlaceRole): boolean {
    if (rank(role) > 0) return true;
    if (facts.kind === 'community' || !facts.group) return false;
    const communityMember = !facts.banned && facts.communityRole !== null;
    return communityMember && facts.group.visibility === 'public';
  }

  /**
   * For actions on another member (kick, ban, role, nickname): the actor must outrank the
   * target in the community. Instance admins outrank everyone but the community owner.
   */
  async requireOutranks(actor: Actor, facts: PlaceFacts, targetUserId: string): Promise<CommunityRole | null> {
    const target = await this.memberRole(facts.community!.id, targetUserId);
    if (targetUserId === actor.userId) throw forbidden('You cannot do that to yourself');
    const targetRank = rank(target ?? 'none');
    if (isInstanceAdmin(actor)) {
      if (target === 'owner') throw forbidden('The community owner cannot be moderated');
      return target;
    }
    if (rank(this.effectiveRole(actor, facts)) <= targetRank) {
      throw forbidden('You can only act on members with a lower role than yours');
    }
    return target;
  }

  async memberRole(communityId: string, userId: string): Promise<CommunityRole | null> {
    const row = await this.db
      .selectFrom('community_members')
      .select('role')
      .where('community_id', '=', communityId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.role ?? null;
  }

  async facts(actor: Actor, kind: PlaceKind, id: string): Promise<PlaceFacts> {
    const facts: PlaceFacts = {
      kind,
      community: null,
      communityRole: null,
      banned: false,
      group: null,
      groupRole: null,
      channel: null,
      channelMember: false,
    };
    const groupId: string | null = kind === 'group' ? id : null;
    let communityId: string | null = kind === 'community' ? id : null;

    if (kind === 'channel') return this.channelFacts(actor, id, facts);
    if (groupId) {
      facts.group =
        (await this.db
          .selectFrom('groups')
          .select(['id', 'community_id', 'visibility', 'personal_owner_id', 'members_can_invite'])
          .where('id', '=', groupId)
          .executeTakeFirst()) ?? null;
      if (!facts.group) throw notFound('No such group');
      communityId = facts.group.community_id;
      facts.groupRole =
        (
          await this.db
            .selectFrom('group_members')
            .select('role')
            .where('group_id', '=', groupId)
            .where('user_id', '=', actor.userId)
            .executeTakeFirst()
        )?.role ?? null;
    }
    facts.community =
      (await this.db
        .selectFrom('communities')
        .select(['id', 'owner_id', 'who_can_create_groups', 'who_can_create_invites'])
        .where('id', '=', communityId!)
        .executeTakeFirst()) ?? null;
    if (!facts.community) throw notFound(`No such ${kind}`);
    facts.communityRole = await this.memberRole(facts.community.id, actor.userId);
    facts.banned = await this.exists(
      this.db
        .selectFrom('community_bans')
        .select('user_id')
        .where('community_id', '=', facts.community.id)
        .where('user_id', '=', actor.userId),
    );
    return facts;
  }

  /** A channel's facts (see CHANNEL_FACTS). */
  private async channelFacts(actor: Actor, id: string, facts: PlaceFacts): Promise<PlaceFacts> {
    const row = await CHANNEL_FACTS.first(this.db, { userId: actor.userId, channelId: id });
    if (!row) throw notFound('No such channel');
    facts.channel = {
      id: row.id,
      kind: row.kind,
      group_id: row.group_id,
      read_only: row.read_only,
      archived_at: row.archived_at,
      slow_mode_secs: row.slow_mode_secs,
      message_ttl_secs: row.message_ttl_secs,
    };
    if (row.group_id === null) {
      facts.channelMember = row.dm_member !== null;
      return facts;
    }
    if (row.g_id === null) throw notFound('No such group');
    facts.group = {
      id: row.g_id,
      community_id: row.g_community_id!,
      visibility: row.g_visibility!,
      personal_owner_id: row.g_personal_owner_id,
      members_can_invite: row.g_members_can_invite!,
    };
    facts.groupRole = row.group_role;
    if (row.co_id === null) throw notFound('No such channel');
    facts.community = {
      id: row.co_id,
      owner_id: row.co_owner_id!,
      who_can_create_groups: row.co_who_can_create_groups!,
      who_can_create_invites: row.co_who_can_create_invites!,
    };
    facts.communityRole = row.community_role;
    facts.banned = row.banned_user !== null;
    return facts;
  }

  private async exists(query: { executeTakeFirst(): Promise<unknown> }): Promise<boolean> {
    return (await query.executeTakeFirst()) !== undefined;
  }
}

/**
 * A channel's facts in one query (every message operation asks about a channel, so this is
 * the hot path): the channel, its group and community, and the actor's DM membership, group
 * role, community role and ban, each by a left join on the actor's id.
 */
const CHANNEL_FACTS = new PreparedQuery((db, p: { userId: string; channelId: string }) =>
  db
    .selectFrom('channels as c')
    .leftJoin('channel_members as dm', (j) => j.onRef('dm.channel_id', '=', 'c.id').on('dm.user_id', '=', p.userId))
    .leftJoin('groups as g', 'g.id', 'c.group_id')
    .leftJoin('group_members as gm', (j) => j.onRef('gm.group_id', '=', 'g.id').on('gm.user_id', '=', p.userId))
    .leftJoin('communities as co', 'co.id', 'g.community_id')
    .leftJoin('community_members as m', (j) => j.onRef('m.community_id', '=', 'co.id').on('m.user_id', '=', p.userId))
    .leftJoin('community_bans as b', (j) => j.onRef('b.community_id', '=', 'co.id').on('b.user_id', '=', p.userId))
    .select([
      'c.id',
      'c.kind',
      'c.group_id',
      'c.read_only',
      'c.archived_at',
      'c.slow_mode_secs',
      'c.message_ttl_secs',
      'dm.user_id as dm_member',
      'g.id as g_id',
      'g.community_id as g_community_id',
      'g.visibility as g_visibility',
      'g.personal_owner_id as g_personal_owner_id',
      'g.members_can_invite as g_members_can_invite',
      'gm.role as group_role',
      'co.id as co_id',
      'co.owner_id as co_owner_id',
      'co.who_can_create_groups as co_who_can_create_groups',
      'co.who_can_create_invites as co_who_can_create_invites',
      'm.role as community_role',
      'b.user_id as banned_user',
    ])
    .where('c.id', '=', p.channelId),
);

function article(role: PlaceRole): string {
  return role === 'admin' || role === 'owner' ? `an ${role}` : `a ${role}`;
}

/**
 * What the signed-in user may do in a community or group, worked out the way the server's
 * permission module does (apps/server/src/permissions/rules.ts), only to decide which buttons to
 * show. The server checks every request again; a hidden button is a courtesy, not a guard.
 */
import type { Community, Group } from '$lib/api/spaces';

export type CommunityRole = 'owner' | 'admin' | 'moderator' | 'member';

const RANK: Record<CommunityRole | 'none', number> = { none: 0, member: 1, moderator: 2, admin: 3, owner: 4 };

export const ROLE_LABEL: Record<CommunityRole, string> = {
  owner: 'Owner',
  admin: 'Admin',
  moderator: 'Moderator',
  member: 'Member',
};

export function roleRank(role: CommunityRole | null | undefined): number {
  return RANK[role ?? 'none'];
}

/** The effective community rank: instance owners and admins act as admins everywhere (never as owners). */
export function effectiveRank(community: Community, instanceAdmin: boolean): number {
  return Math.max(roleRank(community.my_role), instanceAdmin ? RANK.admin : 0);
}

/**
 * Whether the signed-in user may act on `target` (kick, ban, role, others' nickname): they must
 * outrank them; instance admins outrank everyone but the owner. Nobody acts on themselves.
 */
function outranks(c: Community, target: CommunityRole, self: boolean, admin: boolean): boolean {
  if (self) return false;
  if (admin) return target !== 'owner';
  return effectiveRank(c, false) > roleRank(target);
}

function allowedBy(policy: 'everyone' | 'moderator' | 'admin', rank: number): boolean {
  if (policy === 'everyone') return rank >= RANK.member;
  return rank >= RANK[policy];
}

export const can = {
  updateCommunity: (c: Community, admin: boolean) => effectiveRank(c, admin) >= RANK.admin,
  deleteCommunity: (c: Community) => c.my_role === 'owner',
  manageInvites: (c: Community, admin: boolean) => effectiveRank(c, admin) >= RANK.moderator,
  createInvite: (c: Community, admin: boolean) => allowedBy(c.who_can_create_invites, effectiveRank(c, admin)),
  createGroup: (c: Community, admin: boolean) => allowedBy(c.who_can_create_groups, effectiveRank(c, admin)),
  leaveCommunity: (c: Community) => c.my_role !== null && c.my_role !== 'owner',
  /** Group admins, and community moderators and above, manage a group's channels. */
  manageGroup: (c: Community, g: Group, admin: boolean) =>
    g.my_role === 'admin' || effectiveRank(c, admin) >= RANK.moderator,
  leaveGroup: (g: Group, userId: string) => g.joined && g.personal_owner_id !== userId,
  /** Group invites: group admins, except in a personal group a moderator has not opened to invites. */
  createGroupInvite: (c: Community, g: Group, admin: boolean) =>
    effectiveRank(c, admin) >= RANK.moderator ||
    (g.my_role === 'admin' && (g.personal_owner_id === null || g.members_can_invite)),
  /** The ban list (and banning anyone at all). */
  manageBans: (c: Community, admin: boolean) => effectiveRank(c, admin) >= RANK.moderator,
  kick: (c: Community, target: CommunityRole, self: boolean, admin: boolean) =>
    effectiveRank(c, admin) >= RANK.moderator && outranks(c, target, self, admin),
  ban: (c: Community, target: CommunityRole, self: boolean, admin: boolean) =>
    effectiveRank(c, admin) >= RANK.moderator && outranks(c, target, self, admin),
  changeRole: (c: Community, target: CommunityRole, self: boolean, admin: boolean) =>
    effectiveRank(c, admin) >= RANK.admin && outranks(c, target, self, admin),
  /** Handing the community over: its owner, to another member. */
  transfer: (c: Community, self: boolean) => c.my_role === 'owner' && !self,
  /** Own nickname: any member; others': moderators, on members below them. */
  setNickname: (c: Community, target: CommunityRole, self: boolean, admin: boolean) =>
    self ? c.my_role !== null : effectiveRank(c, admin) >= RANK.moderator && outranks(c, target, self, admin),
};

/** The roles one may give: those strictly below one's own (never owner). */
export function assignableRoles(c: Community, admin: boolean): CommunityRole[] {
  const mine = effectiveRank(c, admin);
  return (['admin', 'moderator', 'member'] as const).filter((r) => RANK[r] < mine);
}

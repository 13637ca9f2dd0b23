import type { Actor } from '../auth/authenticate.js';
import { isInstanceAdmin } from '../auth/authenticate.js';
import type { CommunityRole } from '../db/schema.js';
import { AppError, forbidden, notFound } from '../errors.js';
import type { PlaceFacts } from '../permissions/permissions.js';
import { rank } from '../permissions/roles.js';
import type { Action } from '../permissions/rules.js';
import type { SpacesDeps } from '../spaces/deps.js';

/** Whether the permission module allows `action`; `not_found` still throws. */
export async function can(deps: SpacesDeps, actor: Actor, action: Action, placeId: string): Promise<boolean> {
  try {
    await deps.permissions.require(actor, action, placeId);
    return true;
  } catch (err) {
    if (err instanceof AppError && err.code === 'forbidden') return false;
    throw err;
  }
}

/**
 * Standing in a group, compared first by community standing (moderator and above count; plain
 * members are all equal there; instance admins stand as community admins), then by group
 * role (the personal owner counts as admin). A group admin thus manages plain members but
 * never a community moderator, and community moderators manage plain group admins.
 */
function standing(communityRole: CommunityRole | null, instanceAdmin: boolean, groupRank: number): [number, number] {
  const fromCommunity = communityRole && rank(communityRole) >= rank('moderator') ? rank(communityRole) : 0;
  return [Math.max(fromCommunity, instanceAdmin ? rank('admin') : 0), groupRank];
}
const groupRank = (role: 'admin' | 'member' | null, personalOwner: boolean) =>
  personalOwner || role === 'admin' ? 2 : role === 'member' ? 1 : 0;

/**
 * For group membership changes (role, removal): the target must be a member of the group and
 * stand strictly below the actor. The personal owner of a personal group cannot be demoted or
 * removed. Returns the target's group role.
 */
export async function requireOutranksInGroup(
  deps: SpacesDeps,
  actor: Actor,
  facts: PlaceFacts,
  targetId: string,
): Promise<'admin' | 'member'> {
  const group = facts.group!;
  if (targetId === actor.userId) throw forbidden('You cannot do that to yourself; leave the group instead');
  const target = await deps.db
    .selectFrom('group_members as gm')
    .innerJoin('users as u', 'u.id', 'gm.user_id')
    .select(['gm.role', 'u.instance_role'])
    .where('gm.group_id', '=', group.id)
    .where('gm.user_id', '=', targetId)
    .executeTakeFirst();
  if (!target) throw notFound('That user is not a member of this group');
  if (group.personal_owner_id === targetId) throw forbidden('The owner of a personal group keeps it');
  const targetCommunityRole = await deps.permissions.memberRole(group.community_id, targetId);
  const mine = standing(
    facts.banned ? null : facts.communityRole,
    isInstanceAdmin(actor),
    groupRank(facts.groupRole, group.personal_owner_id === actor.userId),
  );
  const theirs = standing(targetCommunityRole, target.instance_role !== 'user', groupRank(target.role, false));
  const above = mine[0] > theirs[0] || (mine[0] === theirs[0] && mine[1] > theirs[1]);
  if (!above) throw forbidden('You can only act on group members who stand below you');
  return target.role;
}

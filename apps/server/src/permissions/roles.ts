import type { CommunityRole, CreationPolicy } from '../db/schema.js';

/** Roles in a place, weakest first. `none` = not a member. */
export const PLACE_ROLES = ['none', 'member', 'moderator', 'admin', 'owner'] as const;
export type PlaceRole = (typeof PLACE_ROLES)[number];

export const rank = (role: PlaceRole): number => PLACE_ROLES.indexOf(role);
export const atLeast = (role: PlaceRole, min: PlaceRole): boolean => rank(role) >= rank(min);
export const highest = (...roles: PlaceRole[]): PlaceRole =>
  roles.reduce((a, b) => (rank(b) > rank(a) ? b : a), 'none');

/** The least role a creation policy (`everyone|moderator|admin`) asks for. */
export function policyRole(policy: CreationPolicy): PlaceRole {
  return policy === 'everyone' ? 'member' : policy;
}

export function communityRoleAsPlace(role: CommunityRole | null): PlaceRole {
  return role ?? 'none';
}

import type { CreationPolicy } from '../db/schema.js';
import type { PlaceRole } from './roles.js';

export type PlaceKind = 'community' | 'group' | 'channel';

/**
 * What an action needs: the kind of place it is asked about and the least effective role
 * there, or the community setting that decides it. This table is the one place where
 * "who may do what" is written down; every route and socket operation asks it through
 * `Permissions.require`.
 */
export interface Rule {
  place: PlaceKind;
  need: PlaceRole | { policy: 'who_can_create_groups' | 'who_can_create_invites' };
}

export const RULES = {
  // Community
  'community.view': { place: 'community', need: 'member' },
  'community.update': { place: 'community', need: 'admin' },
  'community.delete': { place: 'community', need: 'owner' },
  'community.transfer': { place: 'community', need: 'owner' },
  'community.leave': { place: 'community', need: 'member' },
  'community.invites.create': { place: 'community', need: { policy: 'who_can_create_invites' } },
  'community.invites.manage': { place: 'community', need: 'moderator' },
  'community.members.view': { place: 'community', need: 'member' },
  'community.members.kick': { place: 'community', need: 'moderator' },
  'community.members.ban': { place: 'community', need: 'moderator' },
  'community.members.role': { place: 'community', need: 'admin' },
  'community.members.nickname': { place: 'community', need: 'moderator' },
  'community.nickname.own': { place: 'community', need: 'member' },
  'community.groups.create': { place: 'community', need: { policy: 'who_can_create_groups' } },
  'community.groups.personal': { place: 'community', need: 'moderator' },
  'community.groups.see_all': { place: 'community', need: 'moderator' },
  // Asked about the personal group's community: its owner is the group's admin, yet only
  // community moderators decide whether they may invite.
  'community.groups.personal.settings': { place: 'community', need: 'moderator' },
  // Group. Group roles are only admin and member, so `moderator` here means "a group admin,
  // or a community moderator and above" (community moderators keep admin rights in every
  // group, personal groups included); `admin` would shut community moderators out.
  'group.preview': { place: 'group', need: 'none' },
  'group.view': { place: 'group', need: 'member' },
  'group.join': { place: 'group', need: 'none' },
  'group.leave': { place: 'group', need: 'member' },
  'group.update': { place: 'group', need: 'moderator' },
  'group.delete': { place: 'group', need: 'moderator' },
  'group.members.manage': { place: 'group', need: 'moderator' },
  'group.invites.create': { place: 'group', need: 'moderator' },
  'group.channels.create': { place: 'group', need: 'moderator' },
  // Channel
  'channel.view': { place: 'channel', need: 'member' },
  'channel.update': { place: 'channel', need: 'moderator' },
  'channel.delete': { place: 'channel', need: 'moderator' },
  'channel.moderate': { place: 'channel', need: 'moderator' },
  // Messages: always asked about the message's own channel, never a channel the client names.
  // Read-only channels additionally need channel.moderate to post (messages/service.ts).
  'message.send': { place: 'channel', need: 'member' },
  'message.read': { place: 'channel', need: 'member' },
  'message.react': { place: 'channel', need: 'member' },
  'message.pin': { place: 'channel', need: 'moderator' },
} as const satisfies Record<string, Rule>;

export type Action = keyof typeof RULES;

export type PolicyName = 'who_can_create_groups' | 'who_can_create_invites';
export type Policies = Record<PolicyName, CreationPolicy>;

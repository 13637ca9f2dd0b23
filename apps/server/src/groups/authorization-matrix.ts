import type { MatrixCase } from '../permissions/authorization-matrix.js';
import type { ActorName } from '../test-support/spaces-world.js';

/**
 * The authorization matrix entries of the group and channel routes (merged into MATRIX).
 * Most cases aim at A's private group (`owner` is its admin, `groupMember` a member), so
 * `member` is the community member outside a private group; a few aim at the public group,
 * which holds every member of A.
 */

const MEMBERS: readonly ActorName[] = ['member', 'groupMember', 'moderator', 'admin', 'owner'];
/** Who sees the private group: its members and community moderators and above. */
const PRIVATE_VIEWERS: readonly ActorName[] = ['groupMember', 'moderator', 'admin', 'owner', 'instanceAdmin'];
/** Group admins (the owner created it) and community moderators and above. */
const GROUP_ADMINS: readonly ActorName[] = ['moderator', 'admin', 'owner', 'instanceAdmin'];
const IA: readonly ActorName[] = ['instanceAdmin'];
const notAnImage = () => ({ payload: 'not an image', headers: { 'content-type': 'image/png' } });

const inPrivateGroup = (path = '') => ({
  request: (_w: unknown, ids: { privateGroup: string }) => ({ url: `/api/groups/${ids.privateGroup}${path}` }),
});
const onPrivateChannel = (path = '', payload?: unknown) => ({
  request: (_w: unknown, ids: { privateChannel: string }) => ({
    url: `/api/channels/${ids.privateChannel}${path}`,
    ...(payload !== undefined ? { payload } : {}),
  }),
});

export const GROUP_MATRIX: MatrixCase[] = [
  // Groups of a community (who_can_create_groups is `admin` in the world)
  {
    route: 'POST /api/communities/:communityId/groups',
    allow: ['admin', 'owner', 'instanceAdmin'],
    idorAllow: IA,
    request: () => ({ payload: { name: 'New group', visibility: 'private' } }),
  },
  { route: 'GET /api/communities/:communityId/groups', allow: [...MEMBERS, 'instanceAdmin'], idorAllow: IA },
  { route: 'GET /api/communities/:communityId/groups/discover', allow: [...MEMBERS, 'instanceAdmin'], idorAllow: IA },
  {
    route: 'POST /api/communities/:communityId/personal-groups',
    allow: GROUP_ADMINS,
    // `target` belongs to A only: on B the instance admin passes authorization, then 404.
    request: (w) => ({ payload: { user_id: w.users.target.id, name: 'Studio' } }),
  },

  // One group
  { route: 'GET /api/groups/:groupId', allow: PRIVATE_VIEWERS, idorAllow: IA, ...inPrivateGroup() },
  {
    route: 'PATCH /api/groups/:groupId',
    allow: GROUP_ADMINS,
    idorAllow: IA,
    request: (_w, ids) => ({ url: `/api/groups/${ids.privateGroup}`, payload: { description: 'x' } }),
  },
  { route: 'DELETE /api/groups/:groupId', allow: GROUP_ADMINS, idorAllow: IA, ...inPrivateGroup() },
  {
    route: 'PUT /api/groups/:groupId/icon',
    allow: GROUP_ADMINS,
    idorAllow: IA,
    allowedStatus: [415],
    request: (_w, ids) => ({ url: `/api/groups/${ids.privateGroup}/icon`, ...notAnImage() }),
  },
  {
    route: 'PUT /api/groups/:groupId/banner',
    allow: GROUP_ADMINS,
    idorAllow: IA,
    allowedStatus: [415],
    request: (_w, ids) => ({ url: `/api/groups/${ids.privateGroup}/banner`, ...notAnImage() }),
  },
  { route: 'DELETE /api/groups/:groupId/icon', allow: GROUP_ADMINS, idorAllow: IA, ...inPrivateGroup('/icon') },
  { route: 'DELETE /api/groups/:groupId/banner', allow: GROUP_ADMINS, idorAllow: IA, ...inPrivateGroup('/banner') },
  // Personal-group settings are the community moderators' call; A's private group is not a
  // personal group, so those who pass authorization are told so (400).
  {
    route: 'PATCH /api/groups/:groupId/personal',
    allow: GROUP_ADMINS,
    idorAllow: IA,
    allowedStatus: [400],
    request: (_w, ids) => ({ url: `/api/groups/${ids.privateGroup}/personal`, payload: { members_can_invite: true } }),
  },

  // Membership: the public group holds every member of A (joining again changes nothing)
  { route: 'POST /api/groups/:groupId/join', allow: MEMBERS },
  { route: 'POST /api/groups/:groupId/leave', allow: MEMBERS },
  { route: 'GET /api/groups/:groupId/members', allow: PRIVATE_VIEWERS, idorAllow: IA, ...inPrivateGroup('/members') },
  {
    route: 'PATCH /api/groups/:groupId/members/:userId',
    allow: GROUP_ADMINS,
    request: (w, ids) => ({
      url: `/api/groups/${ids.privateGroup}/members/${w.users.groupMember.id}`,
      payload: { role: 'admin' },
    }),
  },
  {
    route: 'DELETE /api/groups/:groupId/members/:userId',
    allow: GROUP_ADMINS,
    request: (w, ids) => ({ url: `/api/groups/${ids.privateGroup}/members/${w.users.groupMember.id}` }),
  },

  // Group invites
  {
    route: 'POST /api/groups/:groupId/invites',
    allow: GROUP_ADMINS,
    idorAllow: IA,
    request: (_w, ids) => ({ url: `/api/groups/${ids.privateGroup}/invites`, payload: {} }),
  },
  { route: 'GET /api/groups/:groupId/invites', allow: GROUP_ADMINS, idorAllow: IA, ...inPrivateGroup('/invites') },
  {
    route: 'DELETE /api/groups/:groupId/invites/:code',
    allow: GROUP_ADMINS,
    idorAllow: IA,
    request: (_w, ids) => ({ url: `/api/groups/${ids.privateGroup}/invites/${ids.groupInvite}` }),
  },
  // Members of the group's community only: the instance admin, in no community, is refused.
  {
    route: 'POST /api/group-invites/:code/join',
    allow: MEMBERS,
    request: (_w, ids) => ({ url: `/api/group-invites/${ids.groupInvite}/join` }),
  },

  // Channels
  {
    route: 'POST /api/groups/:groupId/channels',
    allow: GROUP_ADMINS,
    idorAllow: IA,
    request: (_w, ids) => ({
      url: `/api/groups/${ids.privateGroup}/channels`,
      payload: { name: 'news', kind: 'text' },
    }),
  },
  { route: 'GET /api/groups/:groupId/channels', allow: PRIVATE_VIEWERS, idorAllow: IA, ...inPrivateGroup('/channels') },
  { route: 'GET /api/channels/:channelId', allow: PRIVATE_VIEWERS, idorAllow: IA, ...onPrivateChannel() },
  {
    route: 'PATCH /api/channels/:channelId',
    allow: GROUP_ADMINS,
    idorAllow: IA,
    ...onPrivateChannel('', { topic: 'News' }),
  },
  { route: 'DELETE /api/channels/:channelId', allow: GROUP_ADMINS, idorAllow: IA, ...onPrivateChannel() },
  {
    route: 'GET /api/channels/:channelId/members',
    allow: PRIVATE_VIEWERS,
    idorAllow: IA,
    ...onPrivateChannel('/members'),
  },
];

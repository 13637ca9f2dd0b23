import type { MatrixCase } from '../permissions/authorization-matrix.js';
import type { ActorName } from '../test-support/spaces-world.js';

/**
 * The authorization matrix entries of the community routes (merged into MATRIX). In the
 * world, `target` is a plain member of A and `banned` is banned from A; B holds only its owner.
 */

/** Every member of A in good standing (suspended accounts cannot sign in at all). */
const MEMBERS: readonly ActorName[] = ['member', 'groupMember', 'moderator', 'admin', 'owner'];
const MODERATORS: readonly ActorName[] = ['moderator', 'admin', 'owner', 'instanceAdmin'];
const ADMINS: readonly ActorName[] = ['admin', 'owner', 'instanceAdmin'];
const IA: readonly ActorName[] = ['instanceAdmin'];
const notAnImage = () => ({ payload: 'not an image', headers: { 'content-type': 'image/png' } });

export const COMMUNITY_MATRIX: MatrixCase[] = [
  // The test app runs COMMUNITY_CREATION_MODE=admin_only (the default).
  {
    route: 'POST /api/communities',
    allow: IA,
    idor: false,
    allowedStatus: [201],
    request: () => ({ payload: { name: 'New' } }),
  },
  {
    route: 'GET /api/communities',
    allow: ['outsider', ...MEMBERS, 'instanceAdmin', 'banned'],
    idor: false,
  },
  { route: 'GET /api/communities/:id', allow: [...MEMBERS, 'instanceAdmin'], idorAllow: IA },
  {
    route: 'PATCH /api/communities/:id',
    allow: ADMINS,
    idorAllow: IA,
    request: () => ({ payload: { description: 'x' } }),
  },
  // Only the owner: instance admins never act as owners.
  { route: 'DELETE /api/communities/:id', allow: ['owner'] },
  {
    route: 'POST /api/communities/:id/transfer',
    allow: ['owner'],
    request: (w) => ({ payload: { user_id: w.users.target.id } }),
  },
  { route: 'PUT /api/communities/:id/icon', allow: ADMINS, idorAllow: IA, allowedStatus: [415], request: notAnImage },
  { route: 'PUT /api/communities/:id/banner', allow: ADMINS, idorAllow: IA, allowedStatus: [415], request: notAnImage },
  { route: 'DELETE /api/communities/:id/icon', allow: ADMINS, idorAllow: IA },
  { route: 'DELETE /api/communities/:id/banner', allow: ADMINS, idorAllow: IA },

  // Invites (who_can_create_invites is `everyone` in the world)
  {
    route: 'POST /api/communities/:id/invites',
    allow: [...MEMBERS, 'instanceAdmin'],
    idorAllow: IA,
    allowedStatus: [201],
  },
  { route: 'GET /api/communities/:id/invites', allow: MODERATORS, idorAllow: IA },
  { route: 'DELETE /api/communities/:id/invites/:code', allow: MODERATORS, idorAllow: IA },
  {
    route: 'GET /api/invites/:code',
    allow: ['anonymous', 'outsider', ...MEMBERS, 'instanceAdmin', 'banned', 'suspended'],
    idor: false,
  },
  // Anyone signed in who holds a code may join, except users banned from that community.
  { route: 'POST /api/invites/:code/join', allow: ['outsider', ...MEMBERS, 'instanceAdmin'], idor: false },

  // Members (`:userId` = `target`, a plain member of A and of nothing in B)
  { route: 'GET /api/communities/:id/members', allow: [...MEMBERS, 'instanceAdmin'], idorAllow: IA },
  {
    route: 'PATCH /api/communities/:id/members/:userId',
    allow: MODERATORS,
    request: () => ({ payload: { nickname: 'nick' } }),
  },
  { route: 'DELETE /api/communities/:id/members/:userId', allow: MODERATORS },
  // The owner passes authorization and is then told to transfer first (409).
  { route: 'POST /api/communities/:id/leave', allow: MEMBERS, allowedStatus: [204, 409] },
  {
    route: 'POST /api/communities/:id/bans',
    allow: MODERATORS,
    // Instance admins may ban anyone anywhere, members or not (pre-emptive bans).
    idorAllow: IA,
    allowedStatus: [201],
    request: (w) => ({ payload: { user_id: w.users.target.id } }),
  },
  { route: 'GET /api/communities/:id/bans', allow: MODERATORS, idorAllow: IA },
  {
    route: 'DELETE /api/communities/:id/bans/:userId',
    allow: MODERATORS,
    request: (w, ids) => ({ url: `/api/communities/${ids.community}/bans/${w.users.banned.id}` }),
  },
];

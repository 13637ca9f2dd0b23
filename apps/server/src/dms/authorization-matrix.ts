import type { MatrixCase } from '../permissions/authorization-matrix.js';
import type { ActorName, SpacesWorld } from '../test-support/spaces-world.js';

/**
 * The authorization matrix entries of the DM, block and user routes (merged into MATRIX).
 * None of them takes a community-scoped id, so there is no IDOR pass. In the world, `dm` is
 * the 1:1 DM of `member` and `groupMember`, `target` is a plain member of A, `banned` is
 * banned from A (so shares no community with anyone) and `instanceAdmin` is in no community.
 */

/** Every signed-in user whose account is in good standing. */
const SIGNED_IN: readonly ActorName[] = [
  'outsider',
  'member',
  'groupMember',
  'moderator',
  'admin',
  'owner',
  'instanceAdmin',
  'banned',
];
/** Everyone who shares community A with `target`. */
const A_MEMBERS: readonly ActorName[] = ['member', 'groupMember', 'moderator', 'admin', 'owner'];
/** Who may reach `target`: A's members, and instance admins (exempt as the acting side). */
const REACH_TARGET: readonly ActorName[] = [...A_MEMBERS, 'instanceAdmin'];
/** The members of `world.dm`, and nobody else: not moderators, not instance admins. */
const DM_MEMBERS: readonly ActorName[] = ['member', 'groupMember'];

const onDm = (path = '', payload?: unknown) => ({
  idor: false as const,
  request: (w: SpacesWorld) => ({ url: `/api/dms/${w.dm}${path}`, ...(payload !== undefined ? { payload } : {}) }),
});

export const DM_MATRIX: MatrixCase[] = [
  // The actor's own DMs
  { route: 'GET /api/dms', allow: SIGNED_IN, idor: false },
  {
    route: 'POST /api/dms',
    allow: REACH_TARGET,
    idor: false,
    allowedStatus: [201],
    request: (w) => ({ payload: { user_id: w.users.target.id } }),
  },
  {
    route: 'POST /api/dms/group',
    allow: REACH_TARGET,
    idor: false,
    allowedStatus: [201],
    // Two people of A other than the actor.
    request: (w, _ids, actor) => ({
      payload: { user_ids: [w.users.target.id, w.users[actor === 'admin' ? 'moderator' : 'admin'].id] },
    }),
  },

  // One DM: only its two members see it. `dm` is a 1:1 DM, so renaming it, adding to it and
  // leaving it are refused after authorization (400); everyone else learns nothing (404).
  { route: 'GET /api/dms/:channelId', allow: DM_MEMBERS, ...onDm() },
  { route: 'PATCH /api/dms/:channelId', allow: DM_MEMBERS, allowedStatus: [400], ...onDm('', { name: 'Ours' }) },
  {
    route: 'POST /api/dms/:channelId/members',
    allow: DM_MEMBERS,
    allowedStatus: [400],
    idor: false,
    request: (w) => ({ url: `/api/dms/${w.dm}/members`, payload: { user_id: w.users.target.id } }),
  },
  { route: 'POST /api/dms/:channelId/leave', allow: DM_MEMBERS, allowedStatus: [400], ...onDm('/leave') },

  // Blocks are the actor's own list: anyone signed in may block or unblock anyone by id.
  { route: 'GET /api/blocks', allow: SIGNED_IN, idor: false },
  {
    route: 'POST /api/blocks',
    allow: SIGNED_IN,
    idor: false,
    allowedStatus: [201],
    request: (w) => ({ payload: { user_id: w.users.target.id } }),
  },
  { route: 'DELETE /api/blocks/:userId', allow: SIGNED_IN, idor: false },

  // Finding people: search answers everyone signed in, filtered to people they share a
  // community with; a profile (`:userId` = `target`) only to those who share one with them.
  {
    route: 'GET /api/users/search',
    allow: SIGNED_IN,
    idor: false,
    request: (w) => ({ url: `/api/users/search?q=${w.users.target.username}` }),
  },
  { route: 'GET /api/users/:userId', allow: REACH_TARGET, idor: false },
];

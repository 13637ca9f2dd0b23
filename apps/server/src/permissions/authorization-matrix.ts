import { COMMUNITY_MATRIX } from '../communities/authorization-matrix.js';
import { DEVICE_MESSAGE_MATRIX } from '../device-messages/authorization-matrix.js';
import { DM_MATRIX } from '../dms/authorization-matrix.js';
import { GROUP_MATRIX } from '../groups/authorization-matrix.js';
import { KEY_MATRIX } from '../keys/authorization-matrix.js';
import { MESSAGE_MATRIX } from '../messages/authorization-matrix.js';
import { PROVISIONING_MATRIX } from '../provisioning/authorization-matrix.js';
import type { ActorName, CommunityIds, SpacesWorld } from '../test-support/spaces-world.js';

/** One route of the authorization matrix. */
export interface MatrixCase {
  /** `METHOD /path` exactly as registered. */
  route: string;
  /** Who passes authorization on the actor's own community's ids. Everyone else: 401/403/404. */
  allow: readonly ActorName[];
  /** Who passes on another community's ids (IDOR); nobody unless listed (instance admins act everywhere). */
  idorAllow?: readonly ActorName[];
  /** false when the route takes no community-scoped id. */
  idor?: false;
  /** Statuses that count as "passed authorization" (default 200/201/204). */
  allowedStatus?: number[];
  /** Builds the request for the given community's ids, when the defaults are not enough. */
  request?: (
    world: SpacesWorld,
    ids: CommunityIds,
    actor: ActorName,
  ) => { url?: string; payload?: unknown; headers?: Record<string, string> };
}

const EVERYONE: readonly ActorName[] = [
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
];
/** Every signed-in user whose account is in good standing. */
const SIGNED_IN: readonly ActorName[] = EVERYONE.filter((a) => a !== 'anonymous' && a !== 'suspended');
const INSTANCE_ADMINS: readonly ActorName[] = ['instanceAdmin'];

const PASSWORD = 'test password 1';
const NEW_PASSWORD = 'another long passphrase';

/** Public routes: no authorization at all, nobody is refused. */
const PUBLIC = { allow: EVERYONE, idor: false } as const;
/** The signed-in user's own account. */
const SELF = { allow: SIGNED_IN, idor: false } as const;

export const MATRIX: MatrixCase[] = [
  // Operations and documentation
  { route: 'GET /api/health', ...PUBLIC },
  { route: 'GET /api/openapi.json', ...PUBLIC },
  {
    route: 'GET /api/assets/:id',
    ...PUBLIC,
    allowedStatus: [404],
    request: () => ({ url: `/api/assets/${'0'.repeat(64)}.webp` }),
  },

  // Sign-in (public by nature; the bodies are wrong on purpose where a success would need secrets)
  {
    route: 'POST /api/auth/register',
    ...PUBLIC,
    allowedStatus: [403],
    request: (_w, _ids, actor) => ({ payload: { username: `newcomer-${actor}`.slice(0, 32), password: NEW_PASSWORD } }),
  },
  {
    route: 'POST /api/auth/login',
    ...PUBLIC,
    allowedStatus: [401],
    // A different unknown name per actor, so the login throttle (per account and IP) stays out of it.
    request: (_w, _ids, actor) => ({ payload: { username: `nobody-${actor}`, password: PASSWORD } }),
  },
  {
    route: 'POST /api/auth/refresh',
    ...PUBLIC,
    allowedStatus: [401],
    request: () => ({ payload: { refresh_token: 'x'.repeat(43) } }),
  },
  {
    route: 'POST /api/auth/recover',
    ...PUBLIC,
    allowedStatus: [401],
    request: (_w, _ids, actor) => ({
      payload: { username: `nobody-${actor}`, recovery_code: 'AAAA-BBBB-CCCC-DDDD', new_password: NEW_PASSWORD },
    }),
  },
  { route: 'POST /api/auth/logout', ...SELF },

  // The signed-in user's own account
  { route: 'GET /api/account/sessions', ...SELF },
  {
    route: 'DELETE /api/account/sessions/:id',
    ...SELF,
    allowedStatus: [404],
    request: () => ({ url: '/api/account/sessions/00000000-0000-0000-0000-000000000000' }),
  },
  { route: 'POST /api/account/logout-all', ...SELF },
  {
    route: 'PUT /api/account/password',
    ...SELF,
    request: () => ({ payload: { current_password: PASSWORD, new_password: NEW_PASSWORD } }),
  },
  { route: 'POST /api/account/recovery-code', ...SELF, request: () => ({ payload: { password: PASSWORD } }) },
  { route: 'POST /api/account/totp/setup', ...SELF },
  {
    route: 'POST /api/account/totp/enable',
    ...SELF,
    allowedStatus: [400],
    request: () => ({ payload: { code: '123456' } }),
  },
  {
    route: 'POST /api/account/totp/disable',
    ...SELF,
    allowedStatus: [400],
    request: () => ({ payload: { password: PASSWORD, code: '123456' } }),
  },
  {
    route: 'POST /api/account/totp/backup-codes',
    ...SELF,
    allowedStatus: [400],
    request: () => ({ payload: { password: PASSWORD, code: '123456' } }),
  },
  { route: 'GET /api/account/profile', ...SELF },
  { route: 'PATCH /api/account/profile', ...SELF, request: () => ({ payload: { bio: 'hello' } }) },
  { route: 'GET /api/account/preferences', ...SELF },
  { route: 'PUT /api/account/preferences', ...SELF, request: () => ({ payload: { theme: 'dark' } }) },
  {
    route: 'DELETE /api/account',
    ...SELF,
    // Community owners must transfer first: for them the route answers 409 after authorization.
    allowedStatus: [204, 409],
    request: () => ({ payload: { password: PASSWORD } }),
  },
  {
    route: 'PUT /api/account/avatar',
    ...SELF,
    allowedStatus: [415],
    request: () => ({ payload: 'not an image', headers: { 'content-type': 'image/png' } }),
  },
  { route: 'DELETE /api/account/avatar', ...SELF },
  {
    route: 'PUT /api/account/banner',
    ...SELF,
    allowedStatus: [415],
    request: () => ({ payload: 'not an image', headers: { 'content-type': 'image/png' } }),
  },
  { route: 'DELETE /api/account/banner', ...SELF },

  // Instance administration
  {
    route: 'POST /api/admin/invites',
    allow: INSTANCE_ADMINS,
    idor: false,
    request: () => ({ payload: { max_uses: 1 } }),
  },
  { route: 'GET /api/admin/invites', allow: INSTANCE_ADMINS, idor: false },
  {
    route: 'DELETE /api/admin/invites/:code',
    allow: INSTANCE_ADMINS,
    idor: false,
    allowedStatus: [404],
    request: () => ({ url: '/api/admin/invites/UNKNOWNCODE1' }),
  },
  { route: 'GET /api/admin/audit-log', allow: INSTANCE_ADMINS, idor: false },
  {
    route: 'POST /api/admin/users/:userId/suspend',
    allow: INSTANCE_ADMINS,
    idor: false,
    request: (w) => ({ url: `/api/admin/users/${w.users.target.id}/suspend`, payload: { reason: 'spam' } }),
  },
  {
    route: 'POST /api/admin/users/:userId/unsuspend',
    allow: INSTANCE_ADMINS,
    idor: false,
    request: (w) => ({ url: `/api/admin/users/${w.users.suspended.id}/unsuspend` }),
  },

  // Communities, invites, members and bans
  ...COMMUNITY_MATRIX,

  // Groups, personal groups, group invites and channels
  ...GROUP_MATRIX,

  // DMs and group DMs, user blocks, user search and profiles
  ...DM_MATRIX,

  // Identity keys, devices, prekeys and bundles
  ...KEY_MATRIX,
  ...DEVICE_MESSAGE_MATRIX,
  ...PROVISIONING_MATRIX,

  // Messages: history, sending, edits, reactions, pins, read cursors
  ...MESSAGE_MATRIX,
];

import type { MatrixCase } from '../permissions/authorization-matrix.js';
import type { ActorName, CommunityIds, SpacesWorld } from '../test-support/spaces-world.js';

/**
 * The authorization matrix entries of the key service (merged into MATRIX). `/api/keys/devices…`
 * acts on the caller's own devices only (the world has none, so the routes on one device
 * answer 404 to everyone who passes authorization); `/api/keys/users/:userId…` needs the right
 * to contact the user: on A's ids the target is `target` (a member of A), on B's ids it is
 * B's owner, whom only the instance admin may reach.
 */

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
/** Who may contact `target`: A's members, and the instance admin. */
const CONTACTS_OF_TARGET: readonly ActorName[] = [
  'member',
  'groupMember',
  'moderator',
  'admin',
  'owner',
  'instanceAdmin',
];
const OWN = { allow: SIGNED_IN, idor: false } as const;
const OWN_MISSING_DEVICE = { ...OWN, allowedStatus: [404] };

/** A real identity key and signed prekey (made with @chatalot/crypto), valid for any user. */
const DEVICE = {
  identity_key: 'aYH6nHQnQ050RDcNm1gK_V7l39-9l4_KPgwNEdRLZ5g',
  signed_prekey: {
    key_id: 1,
    public_key: 'vHa4-rg1X9rbsAk1kYnZfiNAA74vCBZo2VolaUbPfnw',
    signature: '9QNFS5CyCZcmQVSIyqt04PP2TksKQYjwBX8kVnNIwqyjDFZJj8S83QlBVy0UW6duw8Rz-PX5stTatUBlh6fcBA',
  },
  one_time_prekeys: [{ key_id: 1, public_key: 'AaT-ebL9V9SN-KggizKMx2dT6Eqpl6SA2c-JAJTufjY' }],
};

const targetOf = (w: SpacesWorld, ids: CommunityIds) =>
  ids.community === w.b.community ? w.users.ownerB : w.users.target;

export const KEY_MATRIX: MatrixCase[] = [
  // The caller's own devices
  { route: 'POST /api/keys/devices', ...OWN, request: () => ({ payload: DEVICE }) },
  { route: 'GET /api/keys/devices', ...OWN },
  {
    route: 'DELETE /api/keys/devices/:deviceId',
    ...OWN_MISSING_DEVICE,
    request: () => ({ url: '/api/keys/devices/1' }),
  },
  {
    route: 'PUT /api/keys/devices/:deviceId/signed-prekey',
    ...OWN_MISSING_DEVICE,
    request: () => ({ url: '/api/keys/devices/1/signed-prekey', payload: DEVICE.signed_prekey }),
  },
  {
    route: 'POST /api/keys/devices/:deviceId/one-time-prekeys',
    ...OWN_MISSING_DEVICE,
    request: () => ({
      url: '/api/keys/devices/1/one-time-prekeys',
      payload: { one_time_prekeys: DEVICE.one_time_prekeys },
    }),
  },
  {
    route: 'GET /api/keys/devices/:deviceId/one-time-prekeys/count',
    ...OWN_MISSING_DEVICE,
    request: () => ({ url: '/api/keys/devices/1/one-time-prekeys/count' }),
  },

  // Another user's public keys: only for people who may contact them
  {
    route: 'GET /api/keys/users/:userId/devices',
    allow: CONTACTS_OF_TARGET,
    idorAllow: ['instanceAdmin'],
    request: (w, ids) => ({ url: `/api/keys/users/${targetOf(w, ids).id}/devices` }),
  },
  {
    route: 'GET /api/keys/users/:userId/bundles',
    allow: CONTACTS_OF_TARGET,
    idorAllow: ['instanceAdmin'],
    request: (w, ids) => ({ url: `/api/keys/users/${targetOf(w, ids).id}/bundles` }),
  },
];

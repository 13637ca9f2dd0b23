import type { MatrixCase } from '../permissions/authorization-matrix.js';
import type { ActorName } from '../test-support/spaces-world.js';

/**
 * Linking sessions and device labels belong to the signed-in user. The world has no sessions
 * and no devices, so the routes on one session or device answer 404 to everyone who passes
 * authorization; anonymous and
 * suspended callers are refused before that (401/403). Another user's sessions are covered by
 * provisioning.test.ts.
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
const OWN = { allow: SIGNED_IN, idor: false } as const;
const MISSING = { ...OWN, allowedStatus: [404] };
const SESSION = '0000000000';

export const PROVISIONING_MATRIX: MatrixCase[] = [
  { route: 'GET /api/provisioning/devices', ...OWN },
  {
    route: 'PUT /api/provisioning/devices/:deviceId',
    ...MISSING,
    request: () => ({ url: '/api/provisioning/devices/1', payload: { name: 'Firefox on Linux' } }),
  },
  {
    route: 'POST /api/provisioning/sessions',
    ...OWN,
    request: () => ({
      payload: { ephemeral_key: 'aYH6nHQnQ050RDcNm1gK_V7l39-9l4_KPgwNEdRLZ5g', device_name: 'Firefox on Linux' },
    }),
  },
  {
    route: 'GET /api/provisioning/sessions/:sessionId',
    ...MISSING,
    request: () => ({ url: `/api/provisioning/sessions/${SESSION}` }),
  },
  {
    route: 'DELETE /api/provisioning/sessions/:sessionId',
    ...MISSING,
    request: () => ({ url: `/api/provisioning/sessions/${SESSION}` }),
  },
  {
    route: 'POST /api/provisioning/sessions/:sessionId/envelope',
    ...MISSING,
    request: () => ({ url: `/api/provisioning/sessions/${SESSION}/envelope`, payload: { envelope: 'AAAA' } }),
  },
  {
    route: 'GET /api/provisioning/sessions/:sessionId/envelope',
    ...MISSING,
    request: () => ({ url: `/api/provisioning/sessions/${SESSION}/envelope` }),
  },
];

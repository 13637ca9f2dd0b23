import type { MatrixCase } from '../permissions/authorization-matrix.js';
import type { ActorName } from '../test-support/spaces-world.js';

/**
 * The device inbox acts on the caller's own devices only. The world's users have no device,
 * so everyone who passes authorization is told their device does not exist (404); anonymous
 * and suspended callers are refused before that (401/403).
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
const OWN_MISSING_DEVICE = { allow: SIGNED_IN, idor: false, allowedStatus: [404] } as const;

export const DEVICE_MESSAGE_MATRIX: MatrixCase[] = [
  {
    route: 'POST /api/device-messages',
    ...OWN_MISSING_DEVICE,
    allowedStatus: [404],
    request: (w) => ({
      payload: {
        sender_device_id: 1,
        messages: [{ user_id: w.users.target.id, device_id: 1, ciphertext: 'AAAA' }],
      },
    }),
  },
  {
    route: 'GET /api/device-messages',
    ...OWN_MISSING_DEVICE,
    allowedStatus: [404],
    request: () => ({ url: '/api/device-messages?device_id=1' }),
  },
  {
    route: 'POST /api/device-messages/ack',
    ...OWN_MISSING_DEVICE,
    allowedStatus: [404],
    request: () => ({ payload: { device_id: 1, ids: ['x'] } }),
  },
];

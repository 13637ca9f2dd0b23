import type { MatrixCase } from '../permissions/authorization-matrix.js';
import type { ActorName, CommunityIds, SpacesWorld } from '../test-support/spaces-world.js';

/**
 * The authorization matrix entries of the message routes (merged into MATRIX). Most cases aim
 * at A's private channel and `privateMessage` (sent there by `groupMember`), so `member`, in
 * the public group only, is the community member who cannot read it. A few cases are asked
 * again on the DM of `member` and `groupMember` (`dmMessage` is `member`'s), where nobody else
 * passes: not moderators, not instance admins.
 */

/** Who reads the private channel: its group's members and community moderators and above. */
const READERS: readonly ActorName[] = ['groupMember', 'moderator', 'admin', 'owner', 'instanceAdmin'];
/** Who moderates it: group admins (the owner) and community moderators and above. */
const MODERATORS: readonly ActorName[] = ['moderator', 'admin', 'owner', 'instanceAdmin'];
const IA: readonly ActorName[] = ['instanceAdmin'];
const DM_MEMBERS: readonly ActorName[] = ['member', 'groupMember'];
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

const THUMBS_UP = encodeURIComponent('👍');
const CIPHERTEXT = Buffer.from('matrix').toString('base64');

const onPrivateChannel = (path: string, payload?: unknown) => ({
  request: (_w: SpacesWorld, ids: CommunityIds) => ({
    url: `/api/channels/${ids.privateChannel}${path}`,
    ...(payload !== undefined ? { payload } : {}),
  }),
});
const onPrivateMessage = (path = '', payload?: unknown) => ({
  request: (_w: SpacesWorld, ids: CommunityIds) => ({
    url: `/api/messages/${ids.privateMessage}${path}`,
    ...(payload !== undefined ? { payload } : {}),
  }),
});
const onDm = (path: string) => ({
  idor: false as const,
  request: (w: SpacesWorld) => ({ url: `/api/channels/${w.dm}${path}` }),
});
const onDmMessage = (path = '') => ({
  idor: false as const,
  request: (w: SpacesWorld) => ({ url: `/api/messages/${w.dmMessage}${path}` }),
});
const send = (channel: (w: SpacesWorld, ids: CommunityIds) => string, scheme: string) => ({
  request: (w: SpacesWorld, ids: CommunityIds, actor: ActorName) => ({
    url: `/api/channels/${channel(w, ids)}/messages`,
    payload: { nonce: `matrix-${actor}`, ciphertext: CIPHERTEXT, encryption: { scheme } },
  }),
});

export const MESSAGE_MATRIX: MatrixCase[] = [
  // History, one message, threads, edit history
  { route: 'GET /api/channels/:channelId/messages', allow: READERS, idorAllow: IA, ...onPrivateChannel('/messages') },
  { route: 'GET /api/channels/:channelId/messages', allow: DM_MEMBERS, ...onDm('/messages') },
  { route: 'GET /api/messages/:messageId', allow: READERS, idorAllow: IA, ...onPrivateMessage() },
  { route: 'GET /api/messages/:messageId', allow: DM_MEMBERS, ...onDmMessage() },
  { route: 'GET /api/messages/:messageId/thread', allow: READERS, idorAllow: IA, ...onPrivateMessage('/thread') },
  { route: 'GET /api/messages/:messageId/versions', allow: READERS, idorAllow: IA, ...onPrivateMessage('/versions') },

  // Sending (a nonce per actor; the world is rebuilt after each success), editing, deleting
  {
    route: 'POST /api/channels/:channelId/messages',
    allow: READERS,
    idorAllow: IA,
    allowedStatus: [201],
    ...send((_w, ids) => ids.privateChannel, 'sender_key'),
  },
  {
    route: 'POST /api/channels/:channelId/messages',
    allow: DM_MEMBERS,
    idor: false,
    allowedStatus: [201],
    ...send((w) => w.dm, 'pairwise'),
  },
  // Only the sender edits; everyone else who sees it is refused (403), on B nobody is the sender.
  {
    route: 'PATCH /api/messages/:messageId',
    allow: ['groupMember'],
    ...onPrivateMessage('', { ciphertext: CIPHERTEXT }),
  },
  {
    route: 'DELETE /api/messages/:messageId',
    allow: ['groupMember', ...MODERATORS],
    idorAllow: IA,
    ...onPrivateMessage(),
  },

  // Reactions
  {
    route: 'PUT /api/messages/:messageId/reactions/:emoji',
    allow: READERS,
    idorAllow: IA,
    ...onPrivateMessage(`/reactions/${THUMBS_UP}`),
  },
  {
    route: 'DELETE /api/messages/:messageId/reactions/:emoji',
    allow: READERS,
    idorAllow: IA,
    ...onPrivateMessage(`/reactions/${THUMBS_UP}`),
  },

  // Pins: moderators in group channels, any member in DMs
  { route: 'PUT /api/messages/:messageId/pin', allow: MODERATORS, idorAllow: IA, ...onPrivateMessage('/pin') },
  { route: 'PUT /api/messages/:messageId/pin', allow: DM_MEMBERS, ...onDmMessage('/pin') },
  { route: 'DELETE /api/messages/:messageId/pin', allow: MODERATORS, idorAllow: IA, ...onPrivateMessage('/pin') },
  { route: 'GET /api/channels/:channelId/pins', allow: READERS, idorAllow: IA, ...onPrivateChannel('/pins') },

  // Read cursors
  {
    route: 'PUT /api/channels/:channelId/read',
    allow: READERS,
    idorAllow: IA,
    ...onPrivateChannel('/read', { seq: 1 }),
  },
  { route: 'GET /api/read-states', allow: SIGNED_IN, idor: false },
  {
    route: 'GET /api/channels/:channelId/read-positions',
    allow: READERS,
    idorAllow: IA,
    ...onPrivateChannel('/read-positions'),
  },
  { route: 'GET /api/channels/:channelId/read-positions', allow: DM_MEMBERS, ...onDm('/read-positions') },
];

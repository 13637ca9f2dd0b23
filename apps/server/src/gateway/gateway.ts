import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import websocket from '@fastify/websocket';
import { CLOSE_CODES, GATEWAY, LIMITS } from '@chatalot/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import type { Authenticator } from '../auth/authenticate.js';
import type { Broker } from '../broker/broker.js';
import type { DB } from '../db/schema.js';
import { AppError } from '../errors.js';
import { messagesBetween, withReactions } from '../messages/repo.js';
import type { DeviceMessageService } from '../device-messages/service.js';
import type { MessageService } from '../messages/service.js';
import type { Permissions } from '../permissions/permissions.js';
import type { SpaceEvents } from '../spaces/events.js';
import { lastSeqs } from './access.js';
import { Connection } from './connection.js';
import type { GatewayContext } from './context.js';
import { applyAccess } from './ops.js';
import { Presence } from './presence.js';
import { type BrokerEvent, Registry } from './registry.js';
import type { GatewayState } from './state/gateway-state.js';

export interface GatewayDeps {
  db: Kysely<DB>;
  broker: Broker;
  events: SpaceEvents;
  permissions: Permissions;
  authenticator: Authenticator;
  messages: MessageService;
  deviceMessages: DeviceMessageService;
  state: GatewayState;
  maxSocketsPerUser: number;
  /** PUBLIC_URL: browsers from this origin may connect (besides the server's own host). */
  publicUrl: string | undefined;
}

/** Events on a user's own topic that do not change what they may hear. */
const NOT_STRUCTURAL = new Set([
  'presence',
  'read',
  'typing',
  'keys.low',
  'device.message',
  'device.added',
  'device.removed',
  'identity.changed',
  'session.revoked',
  'user.suspended',
]);
/** Events on a community or group topic that change who hears which channel. */
const PLACE_CHANGES = new Set([
  'channel.created',
  'channel.deleted',
  'group.created',
  'group.deleted',
  'group.updated',
  'community.deleted',
]);

/**
 * The WebSocket gateway at `GET /ws`: the token comes in the first frame (never in the URL),
 * browsers must come from an allowed origin, frames are capped at 256 KiB. See
 * docs/ARCHITECTURE.md for the path of one message.
 */
export async function registerGateway(app: FastifyInstance, deps: GatewayDeps): Promise<GatewayContext> {
  const connections = new Set<Connection>();
  const refreshing = new Map<string, Promise<void>>();
  const dirty = new Set<string>();

  const registry = new Registry({
    broker: deps.broker,
    lastSeq: async (channelId) => (await lastSeqs(deps.db, [channelId])).get(channelId) ?? 0,
    loadAfter: async (channelId, after, upTo) =>
      withReactions(
        deps.db,
        await messagesBetween(deps.db, channelId, { after, before: upTo + 1, limit: upTo - after }),
      ),
    onStructural: (topic, event) => onStructural(topic, event),
    onError: (err) => app.log.error({ err }, 'gateway broker error'),
  });

  const ctx: GatewayContext = {
    db: deps.db,
    registry,
    messages: deps.messages,
    deviceMessages: deps.deviceMessages,
    presence: new Presence(deps.state, deps.events, deps.db, deps.maxSocketsPerUser),
    authenticator: deps.authenticator,
    permissions: deps.permissions,
    events: deps.events,
    log: app.log,
    connections,
    refreshAccess,
  };

  /** Coalesces refreshes: one runs per user at a time, and one more if news came meanwhile. */
  async function refreshAccess(userId: string): Promise<void> {
    const running = refreshing.get(userId);
    if (running) {
      dirty.add(userId);
      return running;
    }
    const run = (async () => {
      do {
        dirty.delete(userId);
        for (const conn of [...(registry.users.get(userId) ?? [])]) {
          if (conn instanceof Connection && conn.isOpen) await applyAccess(conn);
        }
      } while (dirty.has(userId));
    })().finally(() => refreshing.delete(userId));
    refreshing.set(userId, run);
    return run;
  }

  function onStructural(topic: string, event: BrokerEvent): void {
    const users = new Set<string>();
    if (topic.startsWith('user:')) {
      if (!NOT_STRUCTURAL.has(event.type)) users.add(topic.slice('user:'.length));
    } else if (topic.startsWith('community:') || topic.startsWith('group:')) {
      if (typeof event.user_id === 'string' && event.type.startsWith('member.')) users.add(event.user_id);
      if (PLACE_CHANGES.has(event.type)) for (const s of registry.subscribersOf(topic)) users.add(s.userId);
    }
    for (const userId of users) {
      if (!registry.users.has(userId)) continue;
      // Until the access is re-read, events for this user wait: a message committed after a
      // kick must not reach their sockets on a channel that is about to be dropped.
      registry.hold(userId);
      refreshAccess(userId)
        .catch((err: unknown) => app.log.error({ err }, 'gateway access refresh failed'))
        .finally(() => registry.release(userId));
    }
  }

  await app.register(websocket, { options: { maxPayload: LIMITS.wsFrameBytes, perMessageDeflate: false } });
  app.route({
    method: 'GET',
    url: '/ws',
    preValidation: async (request) => checkOrigin(request, deps.publicUrl),
    // A plain GET (no Upgrade header) gets an answer in the envelope, never the web app.
    handler: async () => {
      throw new AppError('upgrade_required', 'Open a WebSocket here (Upgrade: websocket)');
    },
    wsHandler: (socket, request) => {
      releaseUpgradeRequest(socket, request);
      connections.add(new Connection(socket, ctx));
    },
  });

  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const conn of connections) {
      if (now - conn.lastHeard > GATEWAY.deadAfterMs) {
        conn.ws.terminate();
        continue;
      }
      conn.ws.ping();
      if (conn.isOpen) conn.ctx.presence.refresh(conn).catch(() => undefined);
    }
  }, GATEWAY.heartbeatMs);
  heartbeat.unref();

  app.addHook('preClose', async () => {
    clearInterval(heartbeat);
    for (const conn of [...connections]) conn.close(CLOSE_CODES.goingAway, 'Server restarting: resume');
  });
  return ctx;
}

/**
 * Once the socket is upgraded nothing of its HTTP request is needed, yet @fastify/websocket
 * leaves the request, reply, response and their logger reachable from the socket for as long as
 * it is open (an error listener closing over them; the unfinished response stays attached to the
 * TCP socket): a few KiB per idle socket. Both links are cut here; the connection adds its own
 * error listener.
 */
function releaseUpgradeRequest(socket: WebSocket, request: FastifyRequest): void {
  socket.removeAllListeners('error');
  const tcp = request.raw.socket as Socket & { _httpMessage?: ServerResponse | null };
  tcp._httpMessage?.detachSocket(tcp);
}

/**
 * Browsers always send Origin on a WebSocket upgrade: it must be the server's own host or
 * PUBLIC_URL, so another site cannot use a visitor's browser against us. Non-browser clients
 * (bots, tests) send none and authenticate with their token like everyone else.
 */
function checkOrigin(request: FastifyRequest, publicUrl: string | undefined): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const allowed = new Set<string>();
  if (publicUrl) allowed.add(new URL(publicUrl).origin);
  const host = request.headers.host;
  if (host) {
    allowed.add(`http://${host}`);
    allowed.add(`https://${host}`);
  }
  if (!allowed.has(origin)) throw new AppError('origin_not_allowed', 'This origin may not open a socket here');
}

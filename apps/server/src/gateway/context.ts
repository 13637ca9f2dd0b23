import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Authenticator } from '../auth/authenticate.js';
import type { DB } from '../db/schema.js';
import type { DeviceMessageService } from '../device-messages/service.js';
import type { MessageService } from '../messages/service.js';
import type { Permissions } from '../permissions/permissions.js';
import type { SpaceEvents } from '../spaces/events.js';
import type { Connection } from './connection.js';
import type { Presence } from './presence.js';
import type { Registry } from './registry.js';

/** What every connection and op of this process shares. */
export interface GatewayContext {
  db: Kysely<DB>;
  registry: Registry;
  messages: MessageService;
  deviceMessages: DeviceMessageService;
  presence: Presence;
  authenticator: Authenticator;
  permissions: Permissions;
  events: SpaceEvents;
  log: FastifyBaseLogger;
  connections: Set<Connection>;
  /** Re-reads which topics the user's local sockets may listen to, and applies it. */
  refreshAccess(userId: string): Promise<void>;
}

import type { PublicPresence } from '@chatalot/protocol';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Config } from '../config.js';
import type { DB } from '../db/schema.js';
import type { PublicAssetStore } from '../media/public-assets.js';
import type { Permissions } from '../permissions/permissions.js';
import type { SpaceEvents } from './events.js';

/** What the communities, groups, channels and DMs routes are built from. */
export interface SpacesDeps {
  db: Kysely<DB>;
  permissions: Permissions;
  audit: AuditLog;
  events: SpaceEvents;
  assets: PublicAssetStore;
  config: Pick<Config, 'communityCreationMode'>;
  now: () => number;
  /** Live presence as others see it, from the gateway's shared state. */
  presence: (userIds: readonly string[]) => Promise<Map<string, PublicPresence>>;
}

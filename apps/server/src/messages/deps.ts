import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.js';
import type { Permissions } from '../permissions/permissions.js';
import type { SpaceEvents } from '../spaces/events.js';
import type { MessageService } from './service.js';

/** What the REST message routes are built from. */
export interface MessageRoutesDeps {
  db: Kysely<DB>;
  permissions: Permissions;
  events: SpaceEvents;
  messages: MessageService;
  now: () => number;
}

export const tags = ['messages'];

const Id = z.string().min(1).max(64);
export const ChannelParams = z.object({ channelId: Id });
export const MessageParams = z.object({ messageId: Id });

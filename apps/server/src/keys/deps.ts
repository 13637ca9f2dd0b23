import type { Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';
import type { BucketSpec, CounterStore } from '../rate-limit/index.js';
import type { SpaceEvents } from '../spaces/events.js';

/**
 * Bundle fetches per requester and target user: a burst of 10, then one every 5 minutes.
 * Setting up sessions with someone takes one fetch (plus one per device they add later), so
 * this never bites a real client, while one requester needs hours to drain a device's 100
 * one-time prekeys, long after `keys.low` made the owner upload more (PRODUCT.md §5).
 */
export const BUNDLE_FETCH_LIMIT: BucketSpec = { capacity: 10, refillPerSec: 1 / 300 };

/** What the key service is built from. */
export interface KeysDeps {
  db: Kysely<DB>;
  dialect: Dialect;
  events: SpaceEvents;
  /** The shared counters of the HTTP rate limits (Redis with several processes). */
  counterStore: CounterStore;
  /** Per requester+target bucket of bundle fetches; {@link BUNDLE_FETCH_LIMIT} unless given. */
  bundleFetchLimit?: BucketSpec;
  now: () => number;
}

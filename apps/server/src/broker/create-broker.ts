import type { Config } from '../config.js';
import type { Broker } from './broker.js';
import { MemoryBroker } from './memory-broker.js';

/** The broker for this process: Redis when `REDIS_URL` is set, in-process otherwise. */
export async function createBroker(config: Config): Promise<Broker> {
  if (config.redisUrl) {
    const { RedisBroker } = await import('./redis-broker.js');
    return RedisBroker.connect(config.redisUrl);
  }
  return new MemoryBroker();
}

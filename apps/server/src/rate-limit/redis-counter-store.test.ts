import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../test-support/services.js';
import { counterStoreContract } from './counter-store-contract.js';
import { RedisCounterStore } from './redis-counter-store.js';

const T0 = 1_700_000_000_000;

describe.skipIf(!TEST_REDIS_URL)('RedisCounterStore', () => {
  let redis: Redis;
  let other: Redis;
  const prefixes: string[] = [];
  const newPrefix = () => {
    const prefix = `chatalot-test:rl:${randomUUID()}:`;
    prefixes.push(prefix);
    return prefix;
  };
  const keysUnder = async (prefix: string) => redis.keys(`${prefix}*`);

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL!, { maxRetriesPerRequest: 3 });
    other = new Redis(TEST_REDIS_URL!, { maxRetriesPerRequest: 3 });
  });
  afterEach(async () => {
    for (const prefix of prefixes.splice(0)) {
      const keys = await keysUnder(prefix);
      if (keys.length > 0) await redis.del(...keys);
    }
  });
  afterAll(async () => {
    await Promise.allSettled([redis.quit(), other.quit()]);
  });

  counterStoreContract(async () => new RedisCounterStore(redis, newPrefix()));

  it('shares one bucket and one failure count between two processes', async () => {
    const prefix = newPrefix();
    const a = new RedisCounterStore(redis, prefix);
    const b = new RedisCounterStore(other, prefix);
    const spec = { capacity: 10, refillPerSec: 5 };
    // 20 concurrent takes from two "processes": exactly the capacity is granted.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).takeToken('shared', spec, T0)),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect(await b.takeToken('shared', spec, T0)).toEqual({ allowed: false, retryAfterSecs: 1 });
    expect((await a.takeToken('shared', spec, T0 + 200)).allowed).toBe(true);

    await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? a : b).addFailure('acct', 60_000, T0)));
    expect(await a.countFailures('acct', 60_000, T0)).toBe(6);
    expect(await b.addFailure('acct', 60_000, T0)).toBe(7);
    await a.clearFailures('acct');
    expect(await b.countFailures('acct', 60_000, T0)).toBe(0);
  });

  it('puts a TTL on every key it writes, and lets a store under another prefix alone', async () => {
    const prefix = newPrefix();
    const store = new RedisCounterStore(redis, prefix);
    await store.takeToken('ip', { capacity: 50, refillPerSec: 20 }, T0);
    await store.addFailure('acct', 15 * 60_000, T0);
    const keys = (await keysUnder(prefix)).sort();
    expect(keys).toEqual([`${prefix}b:ip`, `${prefix}f:acct`]);
    const bucketTtl = await redis.pttl(`${prefix}b:ip`);
    expect(bucketTtl).toBeGreaterThan(0);
    expect(bucketTtl).toBeLessThanOrEqual(50); // one token at 20/s
    const failureTtl = await redis.pttl(`${prefix}f:acct`);
    expect(failureTtl).toBeGreaterThan(14 * 60_000);
    expect(failureTtl).toBeLessThanOrEqual(15 * 60_000);

    const elsewhere = new RedisCounterStore(redis, newPrefix());
    expect(await elsewhere.countFailures('acct', 15 * 60_000, T0)).toBe(0);
  });

  it('works on a fresh connection whose script cache is empty (EVAL fallback)', async () => {
    const fresh = new Redis(TEST_REDIS_URL!, { maxRetriesPerRequest: 3 });
    try {
      await fresh.script('FLUSH');
      const store = new RedisCounterStore(fresh, newPrefix());
      expect((await store.takeToken('k', { capacity: 1, refillPerSec: 1 }, T0)).allowed).toBe(true);
      expect(await store.addFailure('k', 1000, T0)).toBe(1);
    } finally {
      await fresh.quit();
    }
  });
});

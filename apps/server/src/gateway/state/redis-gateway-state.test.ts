import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../test-support/services.js';
import { gatewayStateContract } from './gateway-state-contract.js';
import { REDIS_STATUS_TTL_MS, RedisGatewayState } from './redis-gateway-state.js';

const T0 = 1_700_000_000_000;
const TTL = 45_000;

describe.skipIf(!TEST_REDIS_URL)('RedisGatewayState', () => {
  let redis: Redis;
  let other: Redis;
  const prefixes: string[] = [];
  const newPrefix = () => {
    const prefix = `chatalot-test:gw:${randomUUID()}:`;
    prefixes.push(prefix);
    return prefix;
  };
  const keysUnder = async (prefix: string) => (await redis.keys(`${prefix}*`)).sort();

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

  // Two "processes": two connections, one key prefix.
  gatewayStateContract(async () => {
    const prefix = newPrefix();
    return [new RedisGatewayState(redis, prefix), new RedisGatewayState(other, prefix)];
  });

  it('puts a TTL on every key it writes and removes what is no longer needed', async () => {
    const prefix = newPrefix();
    const state = new RedisGatewayState(redis, prefix);
    await state.addSocket('u', 's1', 8, TTL, T0);
    await state.addSocket('u', 's2', 8, 10_000, T0);
    await state.setStatus('u', 'dnd');
    await state.tryTyping('c', 'u', 3000, T0);
    expect(await keysUnder(prefix)).toEqual([`${prefix}p:{u}`, `${prefix}s:{u}`, `${prefix}t:1:c:u`]);

    // Scores are the callers' expiry times; the set lives as long as its newest socket.
    expect(await redis.zrange(`${prefix}s:{u}`, 0, -1, 'WITHSCORES')).toEqual([
      's2',
      String(T0 + 10_000),
      's1',
      String(T0 + TTL),
    ]);
    const socketsTtl = await redis.pttl(`${prefix}s:{u}`);
    expect(socketsTtl).toBeGreaterThan(TTL - 10_000);
    expect(socketsTtl).toBeLessThanOrEqual(TTL);
    const statusTtl = await redis.pttl(`${prefix}p:{u}`);
    expect(statusTtl).toBeGreaterThan(REDIS_STATUS_TTL_MS - 60_000);
    expect(statusTtl).toBeLessThanOrEqual(REDIS_STATUS_TTL_MS);
    const typingTtl = await redis.pttl(`${prefix}t:1:c:u`);
    expect(typingTtl).toBeGreaterThan(0);
    expect(typingTtl).toBeLessThanOrEqual(3000);
    expect(await redis.get(`${prefix}t:1:c:u`)).toBe(String(T0));

    // The last socket gone: no socket key; the default status needs no key either.
    await state.removeSocket('u', 's1', T0);
    await state.removeSocket('u', 's2', T0);
    await state.setStatus('u', 'online');
    expect(await keysUnder(prefix)).toEqual([`${prefix}t:1:c:u`]);
  });

  it('renews the status TTL with every socket add and heartbeat', async () => {
    const prefix = newPrefix();
    const statusTtlMs = 60_000;
    const state = new RedisGatewayState(redis, prefix, { statusTtlMs });
    await state.setStatus('u', 'invisible');
    await redis.pexpire(`${prefix}p:{u}`, 5000);
    await state.addSocket('u', 's', 8, TTL, T0);
    expect(await redis.pttl(`${prefix}p:{u}`)).toBeGreaterThan(5000);
    await redis.pexpire(`${prefix}p:{u}`, 5000);
    await redis.pexpire(`${prefix}s:{u}`, 5000);
    await state.refreshSocket('u', 's', TTL, T0 + 15_000);
    expect(await redis.pttl(`${prefix}p:{u}`)).toBeGreaterThan(5000);
    expect(await redis.pttl(`${prefix}s:{u}`)).toBeGreaterThan(5000);
    // A refresh of a socket that is not live renews nothing.
    await redis.pexpire(`${prefix}p:{u}`, 5000);
    await state.refreshSocket('u', 'unknown', TTL, T0 + 15_000);
    expect(await redis.pttl(`${prefix}p:{u}`)).toBeLessThanOrEqual(5000);
    expect(() => new RedisGatewayState(redis, prefix, { statusTtlMs: 0 })).toThrow(RangeError);
  });

  it('reads a damaged status as offline, never as online', async () => {
    const prefix = newPrefix();
    const state = new RedisGatewayState(redis, prefix);
    await state.addSocket('u', 's', 8, TTL, T0);
    await redis.set(`${prefix}p:{u}`, 'INVISIBLE');
    expect(await state.publicPresence(['u'], T0)).toEqual(new Map([['u', 'offline']]));
  });

  it('lets a state under another prefix alone, and leaves the connection open on close', async () => {
    const a = new RedisGatewayState(redis, newPrefix());
    const b = new RedisGatewayState(redis, newPrefix());
    await a.addSocket('u', 's', 1, TTL, T0);
    await a.setStatus('u', 'dnd');
    await a.tryTyping('c', 'u', 3000, T0);
    expect(await b.addSocket('u', 's2', 1, TTL, T0)).toEqual({ accepted: true, firstSocket: true, count: 1 });
    expect(await b.publicPresence(['u'], T0)).toEqual(new Map([['u', 'online']]));
    expect(await b.tryTyping('c', 'u', 3000, T0)).toBe(true);
    await a.close();
    expect(await redis.ping()).toBe('PONG');
    expect(await b.socketCount('u', T0)).toBe(1);
  });

  it('works on a fresh connection whose script cache is empty (EVAL fallback)', async () => {
    const fresh = new Redis(TEST_REDIS_URL!, { maxRetriesPerRequest: 3 });
    try {
      await fresh.script('FLUSH');
      const state = new RedisGatewayState(fresh, newPrefix());
      expect((await state.addSocket('u', 's', 1, TTL, T0)).accepted).toBe(true);
      await state.refreshSocket('u', 's', TTL, T0 + 1);
      expect(await state.tryTyping('c', 'u', 3000, T0)).toBe(true);
      expect(await state.removeSocket('u', 's', T0 + 2)).toEqual({ lastSocket: true, count: 0 });
    } finally {
      await fresh.quit();
    }
  });
});

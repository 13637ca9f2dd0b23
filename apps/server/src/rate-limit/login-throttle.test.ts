import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { TEST_REDIS_URL } from '../test-support/services.js';
import type { CounterStore } from './counter-store.js';
import { LoginThrottle } from './login-throttle.js';
import { MemoryCounterStore } from './memory-counter-store.js';
import { RedisCounterStore } from './redis-counter-store.js';

const T0 = 1_700_000_000_000;
const MIN = 60_000;
const ATTACKER = '198.51.100.66';
const OWNER = '203.0.113.10';

/** The rejection of `promise` as an AppError (fails the test when it resolves). */
async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

function throttleSuite(openStore: () => CounterStore): void {
  let t = T0;
  const make = () => {
    t = T0;
    return new LoginThrottle(openStore(), () => t);
  };
  const fail = async (throttle: LoginThrottle, account: string, ip: string, times: number, stepMs = 1000) => {
    for (let i = 0; i < times; i++) {
      await throttle.beforeAttempt(account, ip);
      await throttle.recordFailure(account, ip);
      t += stepMs;
    }
  };

  it('locks an account for the offending IP after 10 failures, for the rest of the window', async () => {
    const throttle = make();
    await fail(throttle, 'alice', ATTACKER, 9);
    expect(await throttle.beforeAttempt('alice', ATTACKER)).toEqual({ delayMs: 0 });
    await throttle.recordFailure('alice', ATTACKER); // 10th, at T0 + 9 s
    const err = await refusal(throttle.beforeAttempt('alice', ATTACKER));
    expect(err.code).toBe('rate_limited');
    expect(err.status).toBe(429);
    // First failure at T0, now T0 + 9 s: 15 min − 9 s left.
    expect(err.headers).toEqual({ 'retry-after': String(15 * 60 - 9) });

    t = T0 + 10 * MIN;
    expect((await refusal(throttle.beforeAttempt('alice', ATTACKER))).headers).toEqual({
      'retry-after': String(5 * 60),
    });
    t = T0 + 15 * MIN - 1;
    expect((await refusal(throttle.beforeAttempt('alice', ATTACKER))).headers).toEqual({ 'retry-after': '1' });
  });

  it('does not lock the same account from another IP, nor other accounts from the attacker', async () => {
    const throttle = make();
    await fail(throttle, 'alice', ATTACKER, 10);
    await expect(throttle.beforeAttempt('alice', ATTACKER)).rejects.toThrow(AppError);
    await expect(throttle.beforeAttempt('alice', OWNER)).resolves.toMatchObject({ delayMs: expect.any(Number) });
    await expect(throttle.beforeAttempt('bob', ATTACKER)).resolves.toEqual({ delayMs: 0 });
  });

  it('treats the account key case-insensitively', async () => {
    const throttle = make();
    await fail(throttle, 'Alice', ATTACKER, 5);
    await fail(throttle, 'ALICE', ATTACKER, 5);
    await expect(throttle.beforeAttempt('alice', ATTACKER)).rejects.toThrow(AppError);
  });

  it('clears only its own account+IP pair on success', async () => {
    const throttle = make();
    await fail(throttle, 'alice', ATTACKER, 10);
    await fail(throttle, 'alice', OWNER, 9);
    await throttle.recordSuccess('alice', OWNER);
    // The owner's slate is clean: 9 more failures do not lock them...
    await fail(throttle, 'alice', OWNER, 9);
    await expect(throttle.beforeAttempt('alice', OWNER)).resolves.toBeDefined();
    // ...while the attacker stays locked.
    await expect(throttle.beforeAttempt('alice', ATTACKER)).rejects.toThrow(AppError);
    // And a success by the attacker's IP clears the attacker's pair.
    await throttle.recordSuccess('alice', ATTACKER);
    await expect(throttle.beforeAttempt('alice', ATTACKER)).resolves.toBeDefined();
  });

  it('unlocks once 15 minutes have passed since the failures', async () => {
    const throttle = make();
    await fail(throttle, 'alice', ATTACKER, 10, 0); // all at T0
    await expect(throttle.beforeAttempt('alice', ATTACKER)).rejects.toThrow(AppError);
    t = T0 + 15 * MIN;
    expect(await throttle.beforeAttempt('alice', ATTACKER)).toEqual({ delayMs: 0 });
    // A fresh failure counts from one again.
    await throttle.recordFailure('alice', ATTACKER);
    expect(await throttle.beforeAttempt('alice', ATTACKER)).toEqual({ delayMs: 0 });
  });

  it('slows down every attempt on an account with 10+ failures from all sources, capped at 3 s', async () => {
    const throttle = make();
    // Failures spread over many IPs (a botnet): no pair is locked, the account slows down.
    const ip = (i: number) => `192.0.2.${i}`;
    for (let i = 0; i < 9; i++) await fail(throttle, 'alice', ip(i), 1, 0);
    expect(await throttle.beforeAttempt('alice', OWNER)).toEqual({ delayMs: 0 });
    await fail(throttle, 'alice', ip(9), 1, 0);
    expect(await throttle.beforeAttempt('alice', OWNER)).toEqual({ delayMs: 250 });
    await fail(throttle, 'alice', ip(10), 1, 0);
    expect(await throttle.beforeAttempt('alice', OWNER)).toEqual({ delayMs: 500 });
    const delays: number[] = [];
    for (let i = 11; i < 30; i++) {
      await fail(throttle, 'alice', ip(i), 1, 0);
      delays.push((await throttle.beforeAttempt('alice', OWNER)).delayMs);
    }
    expect(delays.slice(0, 3)).toEqual([750, 1000, 1250]);
    expect(delays.every((d, i) => i === 0 || d >= delays[i - 1]!)).toBe(true);
    expect(Math.max(...delays)).toBe(3000);
    expect(delays.at(-1)).toBe(3000);
    // Other accounts are not slowed down; the slow-down ends with the window.
    expect(await throttle.beforeAttempt('bob', OWNER)).toEqual({ delayMs: 0 });
    t = T0 + 15 * MIN;
    expect(await throttle.beforeAttempt('alice', OWNER)).toEqual({ delayMs: 0 });
  });

  it('behaves the same for usernames that do not exist', async () => {
    const throttle = make();
    await fail(throttle, 'nobody-by-this-name', ATTACKER, 10);
    await expect(throttle.beforeAttempt('nobody-by-this-name', ATTACKER)).rejects.toThrow(AppError);
    expect((await throttle.beforeAttempt('nobody-by-this-name', OWNER)).delayMs).toBe(250);
  });
}

describe('LoginThrottle (memory store)', () => {
  throttleSuite(() => new MemoryCounterStore());

  it('computes the delay from the options', () => {
    const throttle = new LoginThrottle(new MemoryCounterStore(), () => T0, {
      maxFailures: 3,
      delayStepMs: 100,
      maxDelayMs: 250,
    });
    expect([0, 2, 3, 4, 5, 50].map((n) => throttle.delayFor(n))).toEqual([0, 0, 100, 200, 250, 250]);
  });
});

describe.skipIf(!TEST_REDIS_URL)('LoginThrottle (Redis store)', () => {
  let redis: Redis;
  const prefix = `chatalot-test:rl:${randomUUID()}:`;
  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL!, { maxRetriesPerRequest: 3 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  let n = 0;
  throttleSuite(() => new RedisCounterStore(redis, `${prefix}${n++}:`));
});

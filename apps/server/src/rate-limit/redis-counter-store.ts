import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  type BucketSpec,
  type CounterStore,
  MAX_FAILURES_PER_KEY,
  type TakeResult,
  checkBucketSpec,
  checkWindow,
  retryAfterSecs,
} from './counter-store.js';

/** Default key prefix; every key this store writes starts with it. */
export const REDIS_COUNTER_PREFIX = 'chatalot:rl:';

/**
 * Token bucket, atomically. The bucket is a hash {t: tokens, ts: last update in ms}; a missing
 * bucket is full. The key expires once the bucket would be full again, so idle clients cost
 * nothing. Returns {allowed (0|1), ms until one token is back}.
 */
const TAKE_TOKEN_LUA = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local saved = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(saved[1])
local ts = tonumber(saved[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate / 1000)
  ts = now
end
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'ts', string.format('%d', ts))
local ttl = math.ceil((capacity - tokens) * 1000 / rate) + (ts - now)
if ttl < 1 then ttl = 1 end
redis.call('PEXPIRE', KEYS[1], ttl)
return {allowed, wait}
`;

/**
 * Records a failure in a sorted set scored by time: drops failures that left the window,
 * adds this one, keeps at most ARGV[4] and expires the key with the window. Returns the count.
 */
const ADD_FAILURE_LUA = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cap = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[3])
local n = redis.call('ZCARD', KEYS[1])
if n > cap then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - cap - 1)
  n = cap
end
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local ttl = tonumber(newest[2]) + window - now
if ttl < window then ttl = window end
redis.call('PEXPIRE', KEYS[1], ttl)
return n
`;

interface ScriptCommands {
  chatalotRlTakeToken(key: string, capacity: number, refillPerSec: number, nowMs: number): Promise<[number, number]>;
  chatalotRlAddFailure(key: string, nowMs: number, windowMs: number, member: string, cap: number): Promise<number>;
}

/**
 * The counter store shared by several server processes, in Redis. Updates are atomic Lua
 * scripts, so concurrent processes never lose a token or a failure; every key has a TTL.
 * Times come from the callers (`nowMs`), so the processes' clocks should be roughly in sync
 * (a clock that is behind refills nothing rather than corrupting a bucket).
 *
 * Keys: `<prefix>b:<key>` (bucket hash), `<prefix>f:<key>` (failure sorted set).
 * The Redis client belongs to the caller, who closes it.
 */
export class RedisCounterStore implements CounterStore {
  private readonly redis: Redis & ScriptCommands;

  constructor(
    redis: Redis,
    private readonly prefix: string = REDIS_COUNTER_PREFIX,
  ) {
    // defineCommand uses EVALSHA, falling back to EVAL when the script is not cached yet.
    redis.defineCommand('chatalotRlTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN_LUA });
    redis.defineCommand('chatalotRlAddFailure', { numberOfKeys: 1, lua: ADD_FAILURE_LUA });
    this.redis = redis as Redis & ScriptCommands;
  }

  async takeToken(key: string, spec: BucketSpec, nowMs: number): Promise<TakeResult> {
    checkBucketSpec(spec);
    const [allowed, waitMs] = await this.redis.chatalotRlTakeToken(
      this.bucketKey(key),
      spec.capacity,
      spec.refillPerSec,
      Math.floor(nowMs),
    );
    return allowed === 1
      ? { allowed: true, retryAfterSecs: 0 }
      : { allowed: false, retryAfterSecs: retryAfterSecs(waitMs) };
  }

  async addFailure(key: string, windowMs: number, nowMs: number): Promise<number> {
    checkWindow(windowMs);
    const member = `${Math.floor(nowMs)}:${randomBytes(8).toString('hex')}`;
    return Number(
      await this.redis.chatalotRlAddFailure(
        this.failureKey(key),
        Math.floor(nowMs),
        Math.ceil(windowMs),
        member,
        MAX_FAILURES_PER_KEY,
      ),
    );
  }

  async countFailures(key: string, windowMs: number, nowMs: number): Promise<number> {
    checkWindow(windowMs);
    return this.redis.zcount(this.failureKey(key), `(${nowMs - windowMs}`, '+inf');
  }

  async nthNewestFailure(key: string, n: number, windowMs: number, nowMs: number): Promise<number | null> {
    checkWindow(windowMs);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1 (got ${n})`);
    const found = await this.redis.zrevrangebyscore(
      this.failureKey(key),
      '+inf',
      `(${nowMs - windowMs}`,
      'WITHSCORES',
      'LIMIT',
      n - 1,
      1,
    );
    return found.length >= 2 ? Number(found[1]) : null;
  }

  async clearFailures(key: string): Promise<void> {
    await this.redis.del(this.failureKey(key));
  }

  private bucketKey(key: string): string {
    return `${this.prefix}b:${key}`;
  }

  private failureKey(key: string): string {
    return `${this.prefix}f:${key}`;
  }
}

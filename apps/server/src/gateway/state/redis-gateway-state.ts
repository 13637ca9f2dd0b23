import type { Redis } from 'ioredis';
import {
  type AddSocketResult,
  DEFAULT_PRESENCE_STATUS,
  type GatewayState,
  type PresenceStatus,
  type PublicPresence,
  type RemoveSocketResult,
  checkDuration,
  checkMax,
  checkNow,
  checkStatus,
  toPublicPresence,
} from './gateway-state.js';

/** Default key prefix; every key this state writes starts with it. */
export const REDIS_GATEWAY_PREFIX = 'chatalot:gw:';

/** How long a chosen status is kept without any socket activity of its user (30 days). */
export const REDIS_STATUS_TTL_MS = 30 * 24 * 60 * 60_000;

/**
 * Adds a socket unless the user is at the limit. KEYS: sockets (sorted set socketId → expiry
 * in the callers' ms), status. ARGV: now, expiresAt, socketId, max, status TTL.
 * Drops expired sockets first; a socket that is already live is only refreshed. The set expires
 * with its newest socket; the status key's TTL is renewed. Returns {accepted, first, count}.
 */
const ADD_SOCKET_LUA = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local before = redis.call('ZCARD', KEYS[1])
local known = redis.call('ZSCORE', KEYS[1], ARGV[3])
if not known and before >= tonumber(ARGV[4]) then
  return {0, 0, before}
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
local count = redis.call('ZCARD', KEYS[1])
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(newest[2]) - now))
redis.call('PEXPIRE', KEYS[2], ARGV[5])
local first = 0
if before == 0 then first = 1 end
return {1, first, count}
`;

/**
 * Moves a live socket's expiry to ARGV[2]; a removed or expired socket stays gone.
 * KEYS: sockets, status. ARGV: now, expiresAt, socketId, status TTL. Returns 1 when refreshed.
 */
const REFRESH_SOCKET_LUA = `
local now = tonumber(ARGV[1])
local score = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[3]))
if score == nil or score <= now then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(newest[2]) - now))
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
`;

/**
 * Removes a socket and the expired ones. KEYS: sockets. ARGV: now, socketId.
 * Returns the live sockets left.
 */
const REMOVE_SOCKET_LUA = `
local now = tonumber(ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local count = redis.call('ZCARD', KEYS[1])
if count > 0 then
  local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(newest[2]) - now))
end
return count
`;

/**
 * Typing throttle in the callers' time: the key holds the time of the last accepted
 * announcement and expires with the interval (so it also goes away by itself). KEYS: typing.
 * ARGV: now, interval. Returns 1 when accepted.
 */
const TRY_TYPING_LUA = `
local now = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]))
if last ~= nil and now - last < tonumber(ARGV[2]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

interface ScriptCommands {
  chatalotGwAddSocket(
    socketsKey: string,
    statusKey: string,
    nowMs: number,
    expiresAt: number,
    socketId: string,
    max: number,
    statusTtlMs: number,
  ): Promise<[number, number, number]>;
  chatalotGwRefreshSocket(
    socketsKey: string,
    statusKey: string,
    nowMs: number,
    expiresAt: number,
    socketId: string,
    statusTtlMs: number,
  ): Promise<number>;
  chatalotGwRemoveSocket(socketsKey: string, nowMs: number, socketId: string): Promise<number>;
  chatalotGwTryTyping(typingKey: string, nowMs: number, intervalMs: number): Promise<number>;
}

export interface RedisGatewayStateOptions {
  /** How long a chosen status outlives its user's last socket activity; default 30 days. */
  statusTtlMs?: number;
}

/**
 * The gateway state shared by several server processes, in Redis. Updates that read before
 * they write are Lua scripts, so concurrent processes never accept more sockets than the limit
 * or two typing announcements in one interval; every key has a TTL, so a crashed process's
 * sockets (and abandoned keys) go away by themselves.
 *
 * Times come from the callers (`nowMs`) and are stored as such (socket scores are expiry times
 * in those milliseconds); only the key TTLs, which merely clean up, run on Redis's clock.
 *
 * Keys: `<prefix>s:{<userId>}` (sorted set socketId → expiry), `<prefix>p:{<userId>}` (the chosen
 * status, absent for 'online'; its TTL is renewed by every socket add and heartbeat),
 * `<prefix>t:<channelId length>:<channelId>:<userId>` (time of the last accepted typing
 * announcement). The braces put a user's keys in one Redis Cluster slot.
 * The Redis client belongs to the caller, who closes it; `close` leaves it open.
 *
 * A status that outlives `statusTtlMs` without any socket activity is forgotten (the user reads
 * as 'online' again on their next connection), so the gateway should set the user's stored
 * status when they connect.
 */
export class RedisGatewayState implements GatewayState {
  private readonly redis: Redis & ScriptCommands;
  private readonly statusTtlMs: number;
  private closed = false;

  constructor(
    redis: Redis,
    private readonly prefix: string = REDIS_GATEWAY_PREFIX,
    options: RedisGatewayStateOptions = {},
  ) {
    this.statusTtlMs = checkDuration('statusTtlMs', options.statusTtlMs ?? REDIS_STATUS_TTL_MS);
    // defineCommand uses EVALSHA, falling back to EVAL when the script is not cached yet.
    redis.defineCommand('chatalotGwAddSocket', { numberOfKeys: 2, lua: ADD_SOCKET_LUA });
    redis.defineCommand('chatalotGwRefreshSocket', { numberOfKeys: 2, lua: REFRESH_SOCKET_LUA });
    redis.defineCommand('chatalotGwRemoveSocket', { numberOfKeys: 1, lua: REMOVE_SOCKET_LUA });
    redis.defineCommand('chatalotGwTryTyping', { numberOfKeys: 1, lua: TRY_TYPING_LUA });
    this.redis = redis as Redis & ScriptCommands;
  }

  async addSocket(
    userId: string,
    socketId: string,
    max: number,
    ttlMs: number,
    nowMs: number,
  ): Promise<AddSocketResult> {
    this.assertOpen();
    checkMax(max);
    const ttl = checkDuration('ttlMs', ttlMs);
    const now = checkNow(nowMs);
    const [accepted, first, count] = await this.redis.chatalotGwAddSocket(
      this.socketsKey(userId),
      this.statusKey(userId),
      now,
      now + ttl,
      socketId,
      max,
      this.statusTtlMs,
    );
    return { accepted: accepted === 1, firstSocket: first === 1, count: Number(count) };
  }

  async refreshSocket(userId: string, socketId: string, ttlMs: number, nowMs: number): Promise<void> {
    this.assertOpen();
    const ttl = checkDuration('ttlMs', ttlMs);
    const now = checkNow(nowMs);
    await this.redis.chatalotGwRefreshSocket(
      this.socketsKey(userId),
      this.statusKey(userId),
      now,
      now + ttl,
      socketId,
      this.statusTtlMs,
    );
  }

  async removeSocket(userId: string, socketId: string, nowMs: number): Promise<RemoveSocketResult> {
    this.assertOpen();
    const now = checkNow(nowMs);
    const count = Number(await this.redis.chatalotGwRemoveSocket(this.socketsKey(userId), now, socketId));
    return { lastSocket: count === 0, count };
  }

  async socketCount(userId: string, nowMs: number): Promise<number> {
    this.assertOpen();
    const now = checkNow(nowMs);
    return this.redis.zcount(this.socketsKey(userId), `(${now}`, '+inf');
  }

  async setStatus(userId: string, status: PresenceStatus): Promise<void> {
    this.assertOpen();
    checkStatus(status);
    if (status === DEFAULT_PRESENCE_STATUS) await this.redis.del(this.statusKey(userId));
    else await this.redis.set(this.statusKey(userId), status, 'PX', this.statusTtlMs);
  }

  async publicPresence(userIds: readonly string[], nowMs: number): Promise<Map<string, PublicPresence>> {
    this.assertOpen();
    const now = checkNow(nowMs);
    const ids = [...new Set(userIds)];
    const result = new Map<string, PublicPresence>();
    if (ids.length === 0) return result;
    const pipeline = this.redis.pipeline();
    for (const userId of ids) {
      pipeline.zcount(this.socketsKey(userId), `(${now}`, '+inf');
      pipeline.get(this.statusKey(userId));
    }
    const replies = await pipeline.exec();
    if (!replies) throw new Error('Redis pipeline was not executed');
    for (const [err] of replies) if (err) throw err;
    ids.forEach((userId, i) => {
      const count = Number(replies[2 * i]![1]);
      const status = replies[2 * i + 1]![1] as string | null;
      result.set(userId, toPublicPresence(count, status));
    });
    return result;
  }

  async tryTyping(channelId: string, userId: string, intervalMs: number, nowMs: number): Promise<boolean> {
    this.assertOpen();
    const interval = checkDuration('intervalMs', intervalMs);
    const now = checkNow(nowMs);
    return (await this.redis.chatalotGwTryTyping(this.typingKey(channelId, userId), now, interval)) === 1;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('gateway state is closed');
  }

  private socketsKey(userId: string): string {
    return `${this.prefix}s:{${userId}}`;
  }

  private statusKey(userId: string): string {
    return `${this.prefix}p:{${userId}}`;
  }

  private typingKey(channelId: string, userId: string): string {
    return `${this.prefix}t:${channelId.length}:${channelId}:${userId}`;
  }
}

/**
 * The WebSocket gateway's state that must be shared by every server process: which users have
 * live sockets (and how many), the presence status each user chose, and the typing throttle.
 * With one server process the in-memory implementation is enough; with several, every process
 * uses the Redis implementation so that they all see the same sockets, statuses and throttles.
 *
 * Time is always passed in (`nowMs`, milliseconds since the epoch) so that callers can inject
 * a clock and tests never depend on the wall clock. With several processes their clocks should
 * be roughly in sync (expiry is judged by the caller's `nowMs`).
 *
 * Ids (users, sockets, channels) are opaque strings: separators and unicode never make two ids
 * collide.
 */

/** The status a user chooses for themselves (the same values as the protocol's `PresenceStatus`). */
export type PresenceStatus = 'online' | 'idle' | 'dnd' | 'invisible';

/** What other users see (the protocol's `PublicPresence`): `invisible` reads as `offline`. */
export type PublicPresence = 'online' | 'idle' | 'dnd' | 'offline';

export interface AddSocketResult {
  /** False when the user already had `max` live sockets; nothing was registered then. */
  accepted: boolean;
  /** True when the user had no live socket before this one (the user went online). */
  firstSocket: boolean;
  /** Live sockets of the user after the call (when refused: the sockets that are live). */
  count: number;
}

export interface RemoveSocketResult {
  /** True when the user has no live socket left (the user went offline). */
  lastSocket: boolean;
  /** Live sockets of the user after the call. */
  count: number;
}

/**
 * Socket liveness: a socket registered or refreshed at `t` with `ttlMs` is live while
 * `nowMs < t + ttlMs`; at exactly `t + ttlMs` it has expired (like the rate limiter's windows).
 */
export interface GatewayState {
  /**
   * Registers one socket of a user, unless the user already has `max` live sockets (across all
   * processes) → returns { accepted: false }. A socket stays live until `removeSocket` or until
   * `ttlMs` passes without `refreshSocket` (a crashed process's sockets expire on their own).
   * `firstSocket` is true when the user had no live socket before (went online).
   *
   * Adding a socket id that is already live is accepted even at the limit: it only refreshes
   * that socket (count unchanged, `firstSocket` false). Atomic across processes: concurrent
   * calls never accept more than `max` sockets.
   */
  addSocket(userId: string, socketId: string, max: number, ttlMs: number, nowMs: number): Promise<AddSocketResult>;

  /**
   * Keeps a socket live for another ttlMs (called on each heartbeat). A socket that was removed
   * or has already expired is NOT brought back (a late heartbeat racing a close must not
   * resurrect it, nor push the user over the limit); the gateway registers it again with
   * `addSocket` if it wants it counted.
   */
  refreshSocket(userId: string, socketId: string, ttlMs: number, nowMs: number): Promise<void>;

  /**
   * `lastSocket` is true when the user has no live socket left (went offline).
   *
   * It is also true when `socketId` was unknown, already removed or had expired, as long as no
   * live socket is left: an offline announcement may repeat, but it is never lost (a socket
   * that expired first, e.g. after a stalled heartbeat, still produces one on removal).
   */
  removeSocket(userId: string, socketId: string, nowMs: number): Promise<RemoveSocketResult>;

  /** Live sockets of a user. */
  socketCount(userId: string, nowMs: number): Promise<number>;

  /**
   * The status the user chose (default 'online'); kept while they have no socket too.
   * Throws a RangeError for a value that is not a {@link PresenceStatus}.
   */
  setStatus(userId: string, status: PresenceStatus): Promise<void>;

  /**
   * What others see for each user: 'offline' without live sockets, 'offline' when invisible
   * (invisible is NEVER shown as online), else the chosen status. The map has one entry per
   * distinct id asked for.
   */
  publicPresence(userIds: readonly string[], nowMs: number): Promise<Map<string, PublicPresence>>;

  /**
   * Typing throttle: true when this user may announce typing in this channel now, i.e. no
   * announcement was accepted for (channelId, userId) in the last `intervalMs` (3000 in the
   * product). Atomic across processes: of concurrent calls, at most one is accepted.
   * A clock behind the last accepted announcement is refused.
   */
  tryTyping(channelId: string, userId: string, intervalMs: number, nowMs: number): Promise<boolean>;

  /** Stops this instance: later calls reject. Shared state (other processes') is left alone. */
  close(): Promise<void>;
}

/** Every value of {@link PresenceStatus}. */
export const PRESENCE_STATUSES: readonly PresenceStatus[] = ['online', 'idle', 'dnd', 'invisible'];

/** The status of a user who never chose one. */
export const DEFAULT_PRESENCE_STATUS: PresenceStatus = 'online';

/**
 * What others see of a user with `liveSockets` live sockets and the stored `status` (null or
 * undefined: never chosen). Anything that is not a status shown as such reads as 'offline', so a
 * damaged stored value can never reveal an invisible user.
 */
export function toPublicPresence(liveSockets: number, status: string | null | undefined): PublicPresence {
  if (!(liveSockets > 0)) return 'offline';
  const chosen = status ?? DEFAULT_PRESENCE_STATUS;
  return chosen === 'online' || chosen === 'idle' || chosen === 'dnd' ? chosen : 'offline';
}

export function checkStatus(status: PresenceStatus): void {
  if (!PRESENCE_STATUSES.includes(status)) {
    throw new RangeError(`presence status must be one of ${PRESENCE_STATUSES.join(', ')} (got ${String(status)})`);
  }
}

export function checkMax(max: number): void {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`max sockets must be an integer >= 1 (got ${max})`);
}

/** A positive duration, rounded up to whole milliseconds. */
export function checkDuration(name: string, ms: number): number {
  if (!(ms > 0) || !Number.isFinite(ms)) throw new RangeError(`${name} must be a finite number of ms > 0 (got ${ms})`);
  return Math.ceil(ms);
}

/** A point in time, rounded down to whole milliseconds. */
export function checkNow(nowMs: number): number {
  if (!Number.isFinite(nowMs)) throw new RangeError(`nowMs must be a finite number (got ${nowMs})`);
  return Math.floor(nowMs);
}

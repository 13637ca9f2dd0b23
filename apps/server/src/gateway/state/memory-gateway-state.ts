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

interface TypingEntry {
  /** When the last announcement was accepted. */
  at: number;
  /** When the entry stops mattering (`at` plus the interval it was accepted with). */
  until: number;
}

/**
 * The gateway state for a single server process. Calls never await anything before they are
 * done, so each one is atomic with respect to the others.
 *
 * Memory is bounded: users are kept in order of their last socket write, and every write drops
 * the users at the front whose sockets have all expired; typing entries are dropped the same way
 * once their interval is over. A status is kept per user who chose something other than the
 * default ('online'), for as long as the process runs.
 */
export class MemoryGatewayState implements GatewayState {
  /** userId → (socketId → expiresAt), users in order of their last write. */
  private readonly sockets = new Map<string, Map<string, number>>();
  private readonly statuses = new Map<string, PresenceStatus>();
  /** typing key → last accepted announcement, in order of acceptance. */
  private readonly typing = new Map<string, TypingEntry>();
  private closed = false;

  /** Entries currently held (for tests and metrics). */
  get size(): { users: number; statuses: number; typing: number } {
    return { users: this.sockets.size, statuses: this.statuses.size, typing: this.typing.size };
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
    const live = this.liveSockets(userId, now);
    const before = live.size;
    if (!live.has(socketId) && before >= max) {
      this.write(userId, live, now);
      return { accepted: false, firstSocket: false, count: before };
    }
    live.set(socketId, now + ttl);
    this.write(userId, live, now);
    return { accepted: true, firstSocket: before === 0, count: live.size };
  }

  async refreshSocket(userId: string, socketId: string, ttlMs: number, nowMs: number): Promise<void> {
    this.assertOpen();
    const ttl = checkDuration('ttlMs', ttlMs);
    const now = checkNow(nowMs);
    const sockets = this.sockets.get(userId);
    const expiresAt = sockets?.get(socketId);
    if (sockets === undefined || expiresAt === undefined || expiresAt <= now) return;
    sockets.set(socketId, now + ttl);
    this.write(userId, sockets, now);
  }

  async removeSocket(userId: string, socketId: string, nowMs: number): Promise<RemoveSocketResult> {
    this.assertOpen();
    const now = checkNow(nowMs);
    const live = this.liveSockets(userId, now);
    live.delete(socketId);
    this.write(userId, live, now);
    return { lastSocket: live.size === 0, count: live.size };
  }

  async socketCount(userId: string, nowMs: number): Promise<number> {
    this.assertOpen();
    return this.countLive(userId, checkNow(nowMs));
  }

  async setStatus(userId: string, status: PresenceStatus): Promise<void> {
    this.assertOpen();
    checkStatus(status);
    if (status === DEFAULT_PRESENCE_STATUS) this.statuses.delete(userId);
    else this.statuses.set(userId, status);
  }

  async publicPresence(userIds: readonly string[], nowMs: number): Promise<Map<string, PublicPresence>> {
    this.assertOpen();
    const now = checkNow(nowMs);
    const result = new Map<string, PublicPresence>();
    for (const userId of userIds) {
      result.set(userId, toPublicPresence(this.countLive(userId, now), this.statuses.get(userId)));
    }
    return result;
  }

  async tryTyping(channelId: string, userId: string, intervalMs: number, nowMs: number): Promise<boolean> {
    this.assertOpen();
    const interval = checkDuration('intervalMs', intervalMs);
    const now = checkNow(nowMs);
    const key = JSON.stringify([channelId, userId]);
    const last = this.typing.get(key);
    if (last !== undefined && last.until > now && now - last.at < interval) return false;
    this.typing.delete(key);
    this.typing.set(key, { at: now, until: now + interval });
    for (const [k, entry] of this.typing) {
      if (entry.until > now) break;
      this.typing.delete(k);
    }
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sockets.clear();
    this.statuses.clear();
    this.typing.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('gateway state is closed');
  }

  /** The user's sockets with the expired ones dropped (a new, detached map when there are none). */
  private liveSockets(userId: string, now: number): Map<string, number> {
    const sockets = this.sockets.get(userId) ?? new Map<string, number>();
    dropExpired(sockets, now);
    return sockets;
  }

  private countLive(userId: string, now: number): number {
    let n = 0;
    for (const expiresAt of this.sockets.get(userId)?.values() ?? []) if (expiresAt > now) n++;
    return n;
  }

  /**
   * Stores the user's sockets as the most recently written (or forgets the user when none are
   * left), then drops the users at the front whose sockets have all expired.
   */
  private write(userId: string, sockets: Map<string, number>, now: number): void {
    this.sockets.delete(userId);
    if (sockets.size > 0) this.sockets.set(userId, sockets);
    for (const [user, theirs] of this.sockets) {
      dropExpired(theirs, now);
      if (theirs.size > 0) break;
      this.sockets.delete(user);
    }
  }
}

function dropExpired(sockets: Map<string, number>, now: number): void {
  for (const [socketId, expiresAt] of sockets) if (expiresAt <= now) sockets.delete(socketId);
}

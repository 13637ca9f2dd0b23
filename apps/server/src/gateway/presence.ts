import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { SpaceEvents } from '../spaces/events.js';
import { topics } from '../spaces/events.js';
import type { GatewayState, PresenceStatus } from './state/gateway-state.js';

/** How long a socket counts as live without a heartbeat refresh (a crashed process's sockets expire). */
export const SOCKET_TTL_MS = 60_000;

interface PresenceSocket {
  readonly id: string;
  readonly userId: string;
}

/**
 * Presence and per-user socket counts, shared through the gateway state (Redis with several
 * processes). Changes go to the communities the user belongs to: presence is visible only to
 * people who share a community, and `invisible` always reads as offline.
 */
export class Presence {
  constructor(
    private readonly state: GatewayState,
    private readonly events: SpaceEvents,
    private readonly db: Kysely<DB>,
    private readonly maxSockets: number,
  ) {}

  /** Registers a socket; false when the user already has the maximum number of sockets. */
  async socketOpened(socket: PresenceSocket): Promise<boolean> {
    const now = Date.now();
    const result = await this.state.addSocket(socket.userId, socket.id, this.maxSockets, SOCKET_TTL_MS, now);
    if (!result.accepted) return false;
    if (result.firstSocket) {
      const row = await this.db
        .selectFrom('users')
        .select('presence')
        .where('id', '=', socket.userId)
        .executeTakeFirst();
      await this.state.setStatus(socket.userId, (row?.presence as PresenceStatus | undefined) ?? 'online');
      await this.announce(socket.userId);
    }
    return true;
  }

  async socketClosed(socket: PresenceSocket): Promise<void> {
    const result = await this.state.removeSocket(socket.userId, socket.id, Date.now());
    if (result.lastSocket) await this.announce(socket.userId);
  }

  refresh(socket: PresenceSocket): Promise<void> {
    return this.state.refreshSocket(socket.userId, socket.id, SOCKET_TTL_MS, Date.now());
  }

  async setStatus(userId: string, status: PresenceStatus): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ presence: status, updated_at: Date.now() })
      .where('id', '=', userId)
      .execute();
    await this.state.setStatus(userId, status);
    await this.announce(userId);
  }

  /** True when this user may announce typing in the channel now (one event per 3 s). */
  tryTyping(channelId: string, userId: string, intervalMs: number): Promise<boolean> {
    return this.state.tryTyping(channelId, userId, intervalMs, Date.now());
  }

  async publicPresence(userIds: readonly string[]) {
    return this.state.publicPresence(userIds, Date.now());
  }

  /** Tells everyone who shares a community with the user what they now look like. */
  private async announce(userId: string): Promise<void> {
    const status = (await this.state.publicPresence([userId], Date.now())).get(userId) ?? 'offline';
    const communities = await this.db
      .selectFrom('community_members')
      .select('community_id')
      .where('user_id', '=', userId)
      .execute();
    const targets = [topics.user(userId), ...communities.map((c) => topics.community(c.community_id))];
    await this.events.publish({ type: 'presence', user_id: userId, status }, ...targets);
  }
}

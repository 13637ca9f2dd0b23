/**
 * Read receipts: how far each other person has read in each conversation. Only people who share
 * read receipts (the `read_receipts` preference) are ever heard of here, in DMs and channels of
 * at most RECEIPTS_MAX_MEMBERS members. Two sources, merged (a mark only moves forward):
 * the positions the server stored (`GET /api/channels/:id/read-positions`), asked once when a
 * conversation first shows its receipts and again after the socket reconnects (marks made while
 * it was down were not heard), and the channel's live `read` events, for every conversation the
 * socket hears.
 */
import { MESSAGE_LIMITS } from '@chatalot/protocol';
import { SvelteMap } from 'svelte/reactivity';
import { realtime } from '$lib/realtime.svelte';
import { session } from '$lib/session.svelte';
import { readPositions } from './message-rest';

/** Channels up to this many members show receipts (beyond, "seen by" is noise). */
export const RECEIPTS_MAX_MEMBERS = MESSAGE_LIMITS.receiptsMaxMembers;

class Receipts {
  /** channel id → (user id → read seq). */
  readonly byChannel = new SvelteMap<string, SvelteMap<string, number>>();
  /** Channels whose stored positions were asked for since the socket last (re)connected. */
  // Not reactive state: bookkeeping for `of`, which runs inside derived values.
  private readonly asked = new Set<string>();
  /** Bumped on every reconnect, so conversations on screen ask again (see `of`). */
  private connection = $state(0);

  constructor() {
    realtime.on('event', (event) => {
      if (event.type !== 'read') return;
      const { channel_id: channelId, user_id: userId, seq } = event;
      if (typeof channelId !== 'string' || typeof userId !== 'string' || typeof seq !== 'number') return;
      this.mark(channelId, userId, seq);
    });
    // After a dropped connection, read marks made meanwhile were not heard: ask again.
    realtime.onReady((kind) => {
      if (kind !== 'reconnect') return;
      this.asked.clear();
      this.connection++;
    });
  }

  private mark(channelId: string, userId: string, seq: number): void {
    if (userId === session.user?.id) return;
    let readers = this.byChannel.get(channelId);
    if (!readers) {
      readers = new SvelteMap();
      this.byChannel.set(channelId, readers);
    }
    if ((readers.get(userId) ?? 0) < seq) readers.set(userId, seq);
  }

  /**
   * Who has read how far in `channelId`. The first call for a conversation (and the first after
   * a reconnect) also asks the server for the stored positions, which arrive into this map.
   */
  of(channelId: string): ReadonlyMap<string, number> {
    void this.connection; // re-run the caller after a reconnect, so it asks again
    if (!this.asked.has(channelId)) {
      this.asked.add(channelId);
      // Written when the answer comes, never inside the caller's derived value. A failed ask is
      // forgotten, so the next time the conversation changes it asks again.
      readPositions(channelId).then(
        (positions) => {
          for (const { user_id, read_seq } of positions) this.mark(channelId, user_id, read_seq);
        },
        () => this.asked.delete(channelId),
      );
    }
    return this.byChannel.get(channelId) ?? new Map();
  }
}

export const receipts = new Receipts();

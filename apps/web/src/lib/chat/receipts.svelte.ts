/**
 * Read receipts: how far each other person has read in each conversation, as far as this tab has
 * heard. The server tells a channel about a read mark (`read` event) only when the reader shares
 * read receipts (the `read_receipts` preference): people who opted out are never heard of here.
 * Marks are kept from the first conversation opened in this tab on, for every conversation the
 * socket hears; the server keeps no list of others' cursors to ask for, so older marks are unknown.
 */
import { SvelteMap } from 'svelte/reactivity';
import { realtime } from '$lib/realtime.svelte';
import { session } from '$lib/session.svelte';

/** Channels up to this many members show receipts (beyond, "seen by" is noise). */
export const RECEIPTS_MAX_MEMBERS = 20;

class Receipts {
  /** channel id → (user id → read seq). */
  readonly byChannel = new SvelteMap<string, SvelteMap<string, number>>();

  constructor() {
    realtime.on('event', (event) => {
      if (event.type !== 'read') return;
      const { channel_id: channelId, user_id: userId, seq } = event;
      if (typeof channelId !== 'string' || typeof userId !== 'string' || typeof seq !== 'number') return;
      if (userId === session.user?.id) return;
      this.mark(channelId, userId, seq);
    });
  }

  private mark(channelId: string, userId: string, seq: number): void {
    let readers = this.byChannel.get(channelId);
    if (!readers) {
      readers = new SvelteMap();
      this.byChannel.set(channelId, readers);
    }
    if ((readers.get(userId) ?? 0) < seq) readers.set(userId, seq);
  }

  /** Who has read how far in `channelId`. */
  of(channelId: string): ReadonlyMap<string, number> {
    return this.byChannel.get(channelId) ?? new Map();
  }
}

export const receipts = new Receipts();

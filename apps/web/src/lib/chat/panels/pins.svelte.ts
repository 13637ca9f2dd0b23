/**
 * A channel's pinned messages (`GET /api/channels/:id/pins`), decrypted, most recently pinned
 * first, each with who pinned it and when; read again when a `message.pinned` /
 * `message.unpinned` event says the list changed.
 */
import { ApiError } from '@chatalot/client';
import { MESSAGE_LIMITS, type PinnedMessage } from '@chatalot/protocol';
import { describeError } from '$lib/errors';
import { realtime } from '$lib/realtime.svelte';
import type { ChatEntry } from '../conversation.svelte';
import { e2e } from '../e2e-session.svelte';
import { listPins, setPinned } from '../message-rest';

/** A pin as the panel shows it: the message decrypted, with who pinned it and when. */
export type PinnedEntry = ChatEntry & { message: PinnedMessage };

export class Pins {
  entries = $state.raw<PinnedEntry[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  private closed = false;
  private generation = 0;

  constructor(readonly channelId: string) {}

  /** Subscribes and loads; returns the cleanup. */
  open(): () => void {
    const off = realtime.on('event', (event) => {
      if (event.channel_id !== this.channelId) return;
      if (event.type === 'message.pinned' || event.type === 'message.unpinned') {
        void this.load();
      } else if (event.type === 'message.deleted' || event.type === 'message.updated') {
        if (this.entries.some((e) => e.message.id === event.message_id)) void this.load();
      }
    });
    void this.load();
    return () => {
      this.closed = true;
      off();
    };
  }

  async load(): Promise<void> {
    const generation = ++this.generation;
    this.error = null;
    try {
      const messages = await listPins(this.channelId);
      const entries: PinnedEntry[] = [];
      for (const message of messages) entries.push({ message, result: await e2e.decrypt(message) });
      if (this.closed || generation !== this.generation) return;
      this.entries = entries;
    } catch (err) {
      if (!this.closed && generation === this.generation) this.error = describeError(err).message;
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }
}

/** Pins or unpins a message; a sentence for the person when it fails. */
export async function pinMessage(entry: ChatEntry, pinned: boolean): Promise<void> {
  try {
    await setPinned(entry.message.id, pinned);
  } catch (err) {
    if (pinned && err instanceof ApiError && err.code === 'limit_reached')
      throw new Error(
        `This channel already has ${MESSAGE_LIMITS.pinsPerChannel} pinned messages, the most it may have. Unpin one first.`,
        { cause: err },
      );
    throw new Error(`${pinned ? 'Not pinned' : 'Not unpinned'}: ${describeError(err).message}`, { cause: err });
  }
}

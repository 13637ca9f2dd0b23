import type { Message } from '@chatalot/protocol';

/** What the client has seen of one channel (the protocol's `ChannelCursor`). */
export interface ChannelCursor {
  channel_id: string;
  /** The highest seq up to which every message was received. */
  seq: number;
}

interface Buffered {
  message: Message;
  /** Arrival number (see `mark`). */
  arrival: number;
}

interface ChannelState {
  /** The highest seq such that every message up to it was delivered (or is gone for good). */
  cursor: number;
  /** Messages that arrived ahead of a gap, by seq, waiting for the gap to fill. */
  buffer: Map<number, Buffered>;
}

/**
 * Per-channel delivery order: what the client has seen of each channel, as the highest
 * contiguous seq, and the messages that arrived ahead of a gap. Every message leaves it once, in
 * seq order per channel; duplicates (seq ≤ cursor, or already waiting) are dropped.
 *
 * Sequence numbers are gap-free when handed out, but history can still have holes: deleted
 * messages are purged after 30 days, disappearing ones when they expire. Only a history read
 * can tell a hole from a message still on its way, so live messages never skip a gap on their
 * own; `applyHistory` does, by what the read returned.
 */
export class ChannelCursors {
  private readonly channels = new Map<string, ChannelState>();
  private arrivals = 0;

  constructor(initial: Iterable<ChannelCursor> = []) {
    for (const c of initial) this.channels.set(c.channel_id, { cursor: c.seq, buffer: new Map() });
  }

  get(channelId: string): number | undefined {
    return this.channels.get(channelId)?.cursor;
  }

  /** Every channel's cursor: what `auth` sends as `resume`, and what an app may persist. */
  list(): ChannelCursor[] {
    return [...this.channels].map(([channel_id, s]) => ({ channel_id, seq: s.cursor }));
  }

  /**
   * Applies a `ready` frame: channels no longer listed are forgotten (returned), new ones start
   * at their latest seq (as the server does: there is nothing to resume), and a cursor beyond
   * the server's latest seq (a server restored from a backup) comes back down to it.
   */
  sync(latest: readonly { channel_id: string; last_seq: number }[]): string[] {
    const listed = new Map(latest.map((c) => [c.channel_id, c.last_seq]));
    const forgotten = [...this.channels.keys()].filter((id) => !listed.has(id));
    for (const id of forgotten) this.channels.delete(id);
    for (const [id, last] of listed) {
      const state = this.channels.get(id);
      if (!state) this.channels.set(id, { cursor: last, buffer: new Map() });
      else if (state.cursor > last) {
        state.cursor = last;
        state.buffer.clear();
      }
    }
    return forgotten;
  }

  /** Channels the socket started listening to (`channels.added`): known ones keep their cursor. */
  add(channels: readonly { channel_id: string; last_seq: number }[]): void {
    for (const c of channels) {
      if (!this.channels.has(c.channel_id)) this.channels.set(c.channel_id, { cursor: c.last_seq, buffer: new Map() });
    }
  }

  /**
   * A message from the socket (live or replayed). Returns what can be delivered now, in order:
   * the message and whatever waited behind it, or nothing when it is a duplicate or arrived
   * ahead of a gap (then `hasGap` is true until history fills it). A channel never seen before
   * (one the user was just given access to) starts at this message.
   */
  receive(message: Message): Message[] {
    let state = this.channels.get(message.channel_id);
    if (!state) {
      state = { cursor: message.seq - 1, buffer: new Map() };
      this.channels.set(message.channel_id, state);
    }
    if (message.seq <= state.cursor || state.buffer.has(message.seq)) return [];
    if (message.seq !== state.cursor + 1) {
      state.buffer.set(message.seq, { message, arrival: ++this.arrivals });
      return [];
    }
    state.cursor = message.seq;
    return [message, ...drain(state)];
  }

  /** True while messages wait for a gap below them to fill. */
  hasGap(channelId: string): boolean {
    return (this.channels.get(channelId)?.buffer.size ?? 0) > 0;
  }

  /** Channels that have messages waiting for a gap. */
  gaps(): string[] {
    return [...this.channels].filter(([, s]) => s.buffer.size > 0).map(([id]) => id);
  }

  /** A point in the arrival order: take it before a history read and pass it to `applyHistory`. */
  mark(): number {
    return this.arrivals;
  }

  /**
   * A history page: the channel's messages after the cursor (or after an older seq: what is
   * already delivered is skipped), as read after `mark` was taken. Returns what can be
   * delivered now, merged with the waiting messages in seq order.
   *
   * What the page says for sure: a message commits only after every smaller seq committed, so
   * a seq missing below a message of the page does not exist any more (purged) and is skipped.
   * An empty page means nothing after the cursor existed at the read; messages that had arrived
   * before the read (so were committed) must then have been purged meanwhile, together with
   * everything below them: delivery skips ahead to them. Messages that arrived during the read
   * prove nothing: the caller reads again.
   */
  applyHistory(channelId: string, page: readonly Message[], mark: number): Message[] {
    const state = this.channels.get(channelId);
    if (!state) return [];
    const out: Message[] = [];
    const sorted = page.filter((m) => m.channel_id === channelId).sort((a, b) => a.seq - b.seq);
    for (const message of sorted) {
      if (message.seq <= state.cursor) continue;
      // Waiting messages below this one are real (they arrived); they go first, in order.
      for (const seq of [...state.buffer.keys()].filter((s) => s < message.seq).sort((a, b) => a - b)) {
        out.push(state.buffer.get(seq)!.message);
        state.buffer.delete(seq);
        state.cursor = seq;
      }
      state.buffer.delete(message.seq);
      state.cursor = message.seq;
      out.push(message, ...drain(state));
    }
    if (sorted.length === 0) {
      const before = [...state.buffer.values()].filter((b) => b.arrival <= mark).map((b) => b.message.seq);
      if (before.length > 0) {
        state.cursor = Math.min(...before) - 1;
        out.push(...drain(state));
      }
    }
    return out;
  }

  /** Forgets a channel (the user lost access to it). */
  forget(channelId: string): void {
    this.channels.delete(channelId);
  }
}

/** Takes the messages that now follow the cursor without a gap. */
function drain(state: ChannelState): Message[] {
  const out: Message[] = [];
  for (let next = state.buffer.get(state.cursor + 1); next; next = state.buffer.get(state.cursor + 1)) {
    state.buffer.delete(next.message.seq);
    state.cursor = next.message.seq;
    out.push(next.message);
  }
  return out;
}

import type { Message } from '@chatalot/protocol';

/** A `message.created` event as published on a channel topic. */
export interface CreatedEvent {
  type: 'message.created';
  channel_id: string;
  seq: number;
  message: Message;
}

/** An event and, when it came from the broker, its JSON as published (sent on as is). */
interface Entry {
  event: CreatedEvent;
  raw: string | undefined;
}

/** How long an out-of-order event waits for the ones before it before the gap is read from the database. */
const GAP_WAIT_MS = 50;

/**
 * Puts one channel's `message.created` events back into sequence order for this process.
 * Publishing happens after commit, and two senders' publishes can overtake each other, but
 * a sequence number is only handed out after every smaller one committed. So when seq n
 * arrives before n-1, n-1 is already in the database: wait briefly for its event, then read
 * the gap from the database. Each event leaves the feed once, in order.
 */
export class ChannelFeed {
  private readonly pending = new Map<number, Entry>();
  private fillTimer: NodeJS.Timeout | null = null;
  private filling = false;

  constructor(
    readonly channelId: string,
    /** The highest seq already handed out before this feed started. */
    private last: number,
    private readonly loadAfter: (channelId: string, after: number, upTo: number) => Promise<Message[]>,
    private readonly emit: (event: CreatedEvent, raw: string | undefined) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  get lastSeq(): number {
    return this.last;
  }

  push(event: CreatedEvent, raw?: string): void {
    if (event.seq <= this.last) return;
    if (event.seq !== this.last + 1 || this.filling) {
      this.pending.set(event.seq, { event, raw });
      this.scheduleFill();
      return;
    }
    this.advance({ event, raw });
    this.drain();
  }

  close(): void {
    if (this.fillTimer) clearTimeout(this.fillTimer);
    this.fillTimer = null;
    this.pending.clear();
  }

  private advance({ event, raw }: Entry): void {
    this.last = event.seq;
    this.emit(event, raw);
  }

  private drain(): void {
    for (let next = this.pending.get(this.last + 1); next; next = this.pending.get(this.last + 1)) {
      this.pending.delete(next.event.seq);
      this.advance(next);
    }
    for (const seq of this.pending.keys()) if (seq <= this.last) this.pending.delete(seq);
    if (this.pending.size === 0 && this.fillTimer) {
      clearTimeout(this.fillTimer);
      this.fillTimer = null;
    }
  }

  private scheduleFill(): void {
    if (this.fillTimer || this.filling) return;
    this.fillTimer = setTimeout(() => {
      this.fillTimer = null;
      void this.fill();
    }, GAP_WAIT_MS);
    this.fillTimer.unref();
  }

  /** Reads the missing range from the database and emits everything up to the highest pending seq. */
  private async fill(): Promise<void> {
    if (this.pending.size === 0) return;
    this.filling = true;
    try {
      const upTo = Math.max(...this.pending.keys());
      const rows = await this.loadAfter(this.channelId, this.last, upTo);
      for (const message of rows) {
        if (message.seq <= this.last) continue;
        const entry = this.pending.get(message.seq) ?? {
          event: { type: 'message.created' as const, channel_id: this.channelId, seq: message.seq, message },
          raw: undefined,
        };
        this.pending.delete(message.seq);
        this.advance(entry);
      }
      // Rows purged meanwhile leave holes that will never fill: skip past them.
      if (this.last < upTo) {
        const entry = this.pending.get(upTo);
        this.last = upTo - 1;
        if (entry) {
          this.pending.delete(upTo);
          this.advance(entry);
        }
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.filling = false;
      this.drain();
      if (this.pending.size > 0) this.scheduleFill();
    }
  }
}

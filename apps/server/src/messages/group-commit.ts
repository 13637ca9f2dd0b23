import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { insertMessages, type NewMessage } from './repo.js';

/** The most messages one transaction carries (keeps statements well below parameter limits). */
const MAX_BATCH = 200;

interface Pending {
  message: NewMessage;
  resolve: (seq: number) => void;
  reject: (err: unknown) => void;
}

/**
 * The same sender and nonce was already on its way to the database in this process, and that
 * message committed: this send is a retry of it (like a unique violation on the nonce).
 */
export class NonceInFlight extends Error {
  constructor() {
    super('A message with this nonce was just committed');
  }
}

/**
 * Group commit for sent messages: the sends that reach the store in the same turn of the event
 * loop, or while the previous commit is running, are inserted in one transaction (one fsync).
 * Each send's promise settles only after that commit: it resolves with the message's seq once
 * the message is durable, and never before.
 *
 * When the batch's transaction fails (a nonce taken by a concurrent retry on another process,
 * a channel deleted meanwhile, …), all of it rolled back, the sequence numbers included, and
 * each message is committed again on its own, in order: only the one that cannot be inserted
 * fails. Two sends with the same sender and nonce never share a batch: the second waits for
 * the first and then answers as a retry of it.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private running = false;
  /** `sender \n nonce` of the messages queued or being committed → their outcome. */
  private readonly inFlight = new Map<string, Promise<number>>();

  constructor(private readonly db: Kysely<DB>) {}

  /** Commits the message with the channel's next seq and resolves with that seq. */
  insert(message: NewMessage): Promise<number> {
    const key = `${message.sender_id}\n${message.nonce}`;
    const earlier = this.inFlight.get(key);
    if (earlier) {
      return earlier.then(
        () => Promise.reject(new NonceInFlight()),
        () => this.insert(message),
      );
    }
    const outcome = new Promise<number>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
    });
    this.inFlight.set(key, outcome);
    const forget = () => {
      if (this.inFlight.get(key) === outcome) this.inFlight.delete(key);
    };
    outcome.then(forget, forget);
    this.schedule();
    return outcome;
  }

  /** Runs after the current turn's I/O callbacks, so every send that arrived with them joins. */
  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  /** Commits batch after batch until nothing waits; sends arriving meanwhile join the next one. */
  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) await this.commit(this.queue.splice(0, MAX_BATCH));
    } finally {
      this.running = false;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    let seqs: number[];
    try {
      seqs = await this.transaction(batch.map((p) => p.message));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      for (const pending of batch) {
        try {
          const [seq] = await this.transaction([pending.message]);
          pending.resolve(seq!);
        } catch (alone) {
          pending.reject(alone);
        }
      }
      return;
    }
    batch.forEach((pending, i) => pending.resolve(seqs[i]!));
  }

  private transaction(messages: NewMessage[]): Promise<number[]> {
    return this.db.transaction().execute((trx) => insertMessages(trx, messages));
  }
}

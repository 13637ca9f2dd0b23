/**
 * The message store's persistence: messages are kept in blocks, one per channel and run of 256
 * sequence numbers, each block one value of the key-value store (encrypted at rest when the KV
 * store encrypts, as the browser's does). A message's block follows from its channel and seq,
 * so recording or deleting it reads one block, never the whole store; history pages, being
 * runs of seqs, touch one or two blocks. Changes are gathered in memory and written a moment
 * later (`flush`), a block at a time, so a page of 50 messages costs one write, not 50.
 *
 *   ms/b/<channel id, URI-encoded>/<block number, 10 digits>  →  {"v":1,"messages":[…]}
 *
 * The store is a cache of what the server keeps (as ciphertext): a block that cannot be read
 * (damaged, or of an unknown version) is dropped rather than failing the store.
 */
import { z } from 'zod';
import { decodeRecord, encodeRecord } from '../e2e/bytes.js';
import type { KeyValueStore } from '../e2e/kv.js';
import { StoredMessageSchema, type StoredMessage } from './stored-message.js';

export const BLOCK_PREFIX = 'ms/b/';
const BLOCK_SEQS = 256;
const VERSION = 1;

const BlockRecord = z.object({ v: z.literal(VERSION), messages: z.array(StoredMessageSchema) });

export function blockKey(channelId: string, seq: number): string {
  const n = Math.floor(seq / BLOCK_SEQS);
  return `${BLOCK_PREFIX}${encodeURIComponent(channelId)}/${String(n).padStart(10, '0')}`;
}

/** One block in memory: its messages by id, and a change counter so a flush knows what it wrote. */
export interface Block {
  messages: Map<string, StoredMessage>;
  version: number;
}

export class BlockCache {
  private readonly blocks = new Map<string, Block>();
  private readonly reading = new Map<string, Promise<Block>>();
  /** Block key → the version last written (or read); a block whose version differs is dirty. */
  private readonly written = new Map<string, number>();
  private flushing: Promise<void> = Promise.resolve();
  /** Moved by `wipe`, so a read that was under way then does not bring its block back. */
  private generation = 0;

  constructor(private readonly kv: KeyValueStore) {}

  /** Every block key in the store, in key order. */
  keys(): Promise<string[]> {
    return this.kv.keys(BLOCK_PREFIX);
  }

  isLoaded(key: string): boolean {
    return this.blocks.has(key);
  }

  /** The block if it is in memory already. */
  peek(key: string): Block | undefined {
    return this.blocks.get(key);
  }

  /** Every message of the blocks in memory. */
  *messages(): IterableIterator<StoredMessage> {
    for (const block of this.blocks.values()) yield* block.messages.values();
  }

  /** The block (read once, then kept in memory). */
  load(key: string): Promise<Block> {
    const hit = this.blocks.get(key);
    if (hit) return Promise.resolve(hit);
    let pending = this.reading.get(key);
    if (!pending) {
      pending = this.read(key).finally(() => this.reading.delete(key));
      this.reading.set(key, pending);
    }
    return pending;
  }

  private async read(key: string): Promise<Block> {
    const generation = this.generation;
    let messages: StoredMessage[] = [];
    try {
      const bytes = await this.kv.get(key);
      if (bytes) messages = BlockRecord.parse(decodeRecord(bytes)).messages;
    } catch {
      // Unreadable: start the block over (the messages come back as they are decrypted again).
    }
    const block: Block = { messages: new Map(messages.map((m) => [m.id, m])), version: 0 };
    // A wipe or a concurrent read may have put a block here meanwhile: keep the first one.
    const existing = this.blocks.get(key);
    if (existing) return existing;
    if (generation !== this.generation) return block;
    this.blocks.set(key, block);
    this.written.set(key, 0);
    return block;
  }

  /** Marks a block changed; `flush` writes it. */
  touch(key: string): void {
    const block = this.blocks.get(key);
    if (block) block.version++;
  }

  /** Writes every changed block (an emptied block is deleted). Calls queue behind each other. */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.writeDirty());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  get dirty(): boolean {
    for (const [key, block] of this.blocks) if (this.written.get(key) !== block.version) return true;
    return false;
  }

  private async writeDirty(): Promise<void> {
    for (const [key, block] of [...this.blocks]) {
      const version = block.version;
      if (this.written.get(key) === version) continue;
      if (block.messages.size === 0) await this.kv.delete(key);
      else await this.kv.set(key, encodeRecord({ v: VERSION, messages: [...block.messages.values()] }));
      // Written as of `version`; a change made while it was written stays dirty.
      if (this.blocks.get(key) === block) this.written.set(key, version);
    }
  }

  /** Forgets everything in memory and deletes every block from the store. */
  async wipe(): Promise<void> {
    this.generation++;
    await this.flushing;
    this.blocks.clear();
    this.written.clear();
    for (const key of await this.kv.keys(BLOCK_PREFIX)) await this.kv.delete(key);
  }
}

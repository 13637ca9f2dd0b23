/**
 * The device's store of decrypted messages and the search over it. The server holds only
 * ciphertext, so it cannot search; this store keeps what this device decrypted (the text,
 * sender, channel, time, file names), persisted over a {@link KeyValueStore} — in the browser
 * an encrypted IndexedDB database (`openIndexedDbKeyStore`, its own database beside the key
 * store), in Node and tests memory.
 *
 * - `record`/`put` adds a message or replaces it with a newer edit; `remove` deletes it from
 *   the store and the index (a deleted message does not come back in this session, even if a
 *   stale copy is recorded after). Writes reach the KV store shortly after (`flush`).
 * - Nothing is read at open. The first `search` (or `warm`) reads every block and builds the
 *   index, in slices with a yield between them so a page stays responsive; from then on the
 *   index follows every change.
 * - `wipe` deletes everything (sign-out).
 *
 * See blocks.ts for the layout and search.ts for the query rules.
 */
import type { Message } from '@chatalot/protocol';
import type { MessageContent } from '../e2e/content.js';
import type { KeyValueStore } from '../e2e/kv.js';
import { blockKey, BlockCache } from './blocks.js';
import {
  createIndex,
  findMatches,
  indexedDoc,
  newestFirst,
  parseQuery,
  passes,
  type Match,
  type MessageIndex,
  type SearchPage,
  type SearchQuery,
} from './search.js';
import { Slicer } from './slicer.js';
import { replaces, StoredMessageSchema, storedMessage, type StoredMessage } from './stored-message.js';
import { snippet } from './text.js';

export interface MessageStoreOptions {
  /** Changes are gathered this long before they are written (default 250 ms). */
  flushDelayMs?: number;
  /** Loading and indexing work this long before yielding to the event loop (default 12 ms). */
  sliceMs?: number;
  /** The clock (disappearing messages); defaults to Date.now. */
  now?: () => number;
}

/** Where a message lives, when the caller knows it (saves a look through the whole store). */
export interface MessageLocation {
  channel_id: string;
  seq: number;
}

export class MessageStore {
  private readonly blocks: BlockCache;
  /** Message id → its block key, for every block in memory. */
  private readonly where = new Map<string, string>();
  /** Deleted in this session: a late copy of one of these is not recorded again. */
  private readonly deleted = new Set<string>();
  private allLoaded: Promise<void> | null = null;
  private index: MessageIndex | null = null;
  private building: Promise<MessageIndex> | null = null;
  /** Ids changed while the index was being built: applied to it once built. */
  private changedWhileBuilding: Set<string> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly flushDelayMs: number;
  private readonly sliceMs: number;
  private readonly now: () => number;

  constructor(kv: KeyValueStore, options: MessageStoreOptions = {}) {
    this.blocks = new BlockCache(kv);
    this.flushDelayMs = options.flushDelayMs ?? 250;
    this.sliceMs = options.sliceMs ?? 12;
    this.now = options.now ?? Date.now;
  }

  /** Records what decrypting `message` gave. */
  record(message: Message, content: MessageContent): Promise<void> {
    return this.put(storedMessage(message, content));
  }

  /** Adds a message, or replaces the stored one with a newer (or changed) version of it. */
  async put(input: StoredMessage): Promise<void> {
    const message = StoredMessageSchema.parse(input);
    if (this.deleted.has(message.id) || this.expired(message)) return;
    const key = blockKey(message.channel_id, message.seq);
    const block = await this.load(key);
    if (this.deleted.has(message.id)) return;
    const current = block.messages.get(message.id);
    if (current && !replaces(message, current)) return;
    block.messages.set(message.id, message);
    this.where.set(message.id, key);
    this.blocks.touch(key);
    this.reindex(message.id);
    this.scheduleFlush();
  }

  /** Deletes a message from the store and the index. */
  async remove(id: string, at?: MessageLocation): Promise<void> {
    this.deleted.add(id);
    let key = this.where.get(id) ?? (at ? blockKey(at.channel_id, at.seq) : undefined);
    if (key === undefined) {
      // Somewhere in the store, if anywhere: read it all (rare: callers usually know where).
      await this.loadAll();
      key = this.where.get(id);
      if (key === undefined) return;
    }
    const block = await this.load(key);
    if (!block.messages.delete(id)) return;
    this.where.delete(id);
    this.blocks.touch(key);
    this.reindex(id);
    this.scheduleFlush();
  }

  /** The stored message, if any. */
  async get(id: string, at?: MessageLocation): Promise<StoredMessage | undefined> {
    if (at) await this.load(blockKey(at.channel_id, at.seq));
    else if (!this.where.has(id)) await this.loadAll();
    const m = this.lookup(id);
    return m && !this.expired(m) ? { ...m, file_names: [...m.file_names] } : undefined;
  }

  /** How many messages are stored (reads the whole store). */
  async count(): Promise<number> {
    await this.loadAll();
    return this.where.size;
  }

  /** Reads the store and builds the index now (e.g. when a search box opens). */
  async warm(): Promise<void> {
    await this.ensureIndex();
  }

  async search(input: SearchQuery): Promise<SearchPage> {
    const q = parseQuery(input);
    const index = await this.ensureIndex();
    const now = this.now();
    const keep = (m: StoredMessage) => passes(q, m, now);
    let matches: Match[];
    let fuzzy = false;
    if (q.terms.length === 0) {
      matches = [];
      for (const message of this.blocks.messages()) if (keep(message)) matches.push({ message, terms: [] });
    } else {
      ({ matches, fuzzy } = findMatches(index, q.terms, (id) => this.lookup(id), keep));
    }
    matches.sort(newestFirst);
    const end = q.offset + q.limit;
    return {
      hits: matches.slice(q.offset, end).map(({ message, terms }) => ({
        message: { ...message, file_names: [...message.file_names] },
        snippet: snippet(message.text, new Set(terms)),
      })),
      total: matches.length,
      nextOffset: end < matches.length ? end : null,
      fuzzy,
    };
  }

  /** Writes pending changes now. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.blocks.flush();
  }

  /** Writes pending changes; the store can still be used after (it reads again as needed). */
  close(): Promise<void> {
    return this.flush();
  }

  /** Deletes every stored message (sign-out) and forgets the index. */
  async wipe(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.index = null;
    this.building = null;
    this.changedWhileBuilding = null;
    this.allLoaded = null;
    this.where.clear();
    await this.blocks.wipe();
  }

  // Internals

  private expired(m: StoredMessage): boolean {
    return m.expires_at !== null && m.expires_at <= this.now();
  }

  private lookup(id: string): StoredMessage | undefined {
    const key = this.where.get(id);
    return key === undefined ? undefined : this.blocks.peek(key)?.messages.get(id);
  }

  /** Reads a block and notes where its messages are. */
  private async load(key: string) {
    const fresh = !this.blocks.isLoaded(key);
    const block = await this.blocks.load(key);
    if (fresh) for (const id of block.messages.keys()) if (!this.where.has(id)) this.where.set(id, key);
    return block;
  }

  /** Reads every block not in memory yet (once), dropping expired messages on the way. */
  private loadAll(): Promise<void> {
    this.allLoaded ??= (async () => {
      const slicer = new Slicer(this.sliceMs);
      for (const key of await this.blocks.keys()) {
        if (this.blocks.isLoaded(key)) continue;
        const block = await this.load(key);
        for (const [id, m] of block.messages) {
          if (!this.expired(m) && !this.deleted.has(id)) continue;
          block.messages.delete(id);
          this.where.delete(id);
          this.blocks.touch(key);
        }
        await slicer.tick(1);
      }
      if (this.blocks.dirty) this.scheduleFlush();
    })().catch((err: unknown) => {
      this.allLoaded = null;
      throw err;
    });
    return this.allLoaded;
  }

  private ensureIndex(): Promise<MessageIndex> {
    if (this.index) return Promise.resolve(this.index);
    const building = (this.building ??= this.build().then(
      (index) => {
        if (this.building === building) this.index = index;
        return index;
      },
      (err: unknown) => {
        if (this.building === building) this.building = null;
        throw err;
      },
    ));
    return building;
  }

  private async build(): Promise<MessageIndex> {
    await this.loadAll();
    const changed = new Set<string>();
    this.changedWhileBuilding = changed;
    const index = createIndex();
    const slicer = new Slicer(this.sliceMs);
    for (const message of [...this.blocks.messages()]) {
      index.add(indexedDoc(message));
      await slicer.tick();
    }
    // What changed meanwhile is not (or not rightly) in the index yet.
    for (const id of changed) {
      if (index.has(id)) index.discard(id);
      const m = this.lookup(id);
      if (m) index.add(indexedDoc(m));
    }
    if (this.changedWhileBuilding === changed) this.changedWhileBuilding = null;
    return index;
  }

  /** Brings the index in line with the store for one message. */
  private reindex(id: string): void {
    this.changedWhileBuilding?.add(id);
    const index = this.index;
    if (!index) return;
    if (index.has(id)) index.discard(id);
    const m = this.lookup(id);
    if (m) index.add(indexedDoc(m));
  }

  private scheduleFlush(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      // A failed write stays pending (the blocks stay dirty) and is tried with the next change.
      this.blocks.flush().catch(() => undefined);
    }, this.flushDelayMs);
  }
}

/**
 * The storage the E2E layer builds on: an async key-value store of byte values with ordered
 * string keys. Every `set`/`delete` must be durable when its promise resolves, because the
 * ratchets write their advanced state through it before a ciphertext is handed out.
 */
export interface KeyValueStore {
  get(key: string): Promise<Uint8Array | undefined>;
  set(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key that starts with `prefix`, in ascending order. */
  keys(prefix: string): Promise<string[]>;
}

/** In-memory store for Node, bots and tests (copies values in and out). Lost on exit. */
export class MemoryKeyValueStore implements KeyValueStore {
  readonly map = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.map.get(key)?.slice();
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    this.map.set(key, value.slice());
  }

  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }

  async keys(prefix: string): Promise<string[]> {
    return [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

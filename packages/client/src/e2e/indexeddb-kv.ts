/**
 * The browser key store: IndexedDB, every value encrypted with AES-GCM under a
 * non-extractable WebCrypto key that is generated once and kept, as a CryptoKey object, in the
 * same database (browsers store non-extractable keys by structured clone without ever exposing
 * their bytes). Writes resolve only when their transaction has committed, with `durability:
 * 'strict'` where the browser supports it, so ratchet state is on disk before a ciphertext
 * leaves.
 *
 * One database per signed-in user and device (choose the name accordingly). Several tabs must
 * not run ratchets over the same database at once: elect one tab (e.g. with Web Locks).
 */
import { EncryptedKeyValueStore, generateStorageKey, type WebCryptoKey } from './encrypted-kv.js';
import { E2EError } from './errors.js';
import type { KeyValueStore } from './kv.js';

// The few IndexedDB shapes used here, typed locally so the package does not need the DOM library.
interface IdbRequest<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
  onblocked: (() => void) | null;
}
interface IdbObjectStore {
  get(key: string): IdbRequest<unknown>;
  put(value: unknown, key: string): IdbRequest<unknown>;
  add(value: unknown, key: string): IdbRequest<unknown>;
  delete(key: string): IdbRequest<unknown>;
  getAllKeys(range?: unknown): IdbRequest<unknown[]>;
}
interface IdbTransaction {
  objectStore(name: string): IdbObjectStore;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  error: unknown;
}
interface IdbDatabase {
  objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): unknown;
  transaction(stores: string, mode: 'readonly' | 'readwrite', options?: { durability?: string }): IdbTransaction;
  close(): void;
  onversionchange: (() => void) | null;
}
interface IdbFactory {
  open(name: string, version: number): IdbOpenRequest;
  deleteDatabase(name: string): IdbRequest<unknown>;
}
interface IdbKeyRangeStatic {
  bound(lower: string, upper: string): unknown;
}

const KV_STORE = 'kv';
const META_STORE = 'meta';
const WRAPPING_KEY = 'wrapping-key';

export interface IndexedDbOptions {
  /** Database name; include the user id (and anything else that separates key sets). */
  name: string;
  /** Defaults to `globalThis.indexedDB`. */
  indexedDB?: object;
  /** Defaults to `globalThis.IDBKeyRange`. */
  IDBKeyRange?: object;
}

function request<T>(req: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(toError(req.error));
  });
}

function committed(tx: IdbTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(toError(tx.error));
    tx.onabort = () => reject(toError(tx.error ?? new Error('IndexedDB transaction aborted')));
  });
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String((e as { message?: unknown } | null)?.message ?? e));
}

function globals(options: IndexedDbOptions): { factory: IdbFactory; keyRange: IdbKeyRangeStatic } {
  const g = globalThis as { indexedDB?: object; IDBKeyRange?: object };
  const factory = options.indexedDB ?? g.indexedDB;
  const keyRange = options.IDBKeyRange ?? g.IDBKeyRange;
  if (!factory || !keyRange) throw new E2EError('unavailable', 'IndexedDB is not available');
  return { factory: factory as IdbFactory, keyRange: keyRange as IdbKeyRangeStatic };
}

/** Raw (unencrypted) IndexedDB byte store; use {@link openIndexedDbKeyStore} for keys. */
export class IndexedDbKeyValueStore implements KeyValueStore {
  private constructor(
    readonly db: IdbDatabase,
    private readonly keyRange: IdbKeyRangeStatic,
  ) {}

  static async open(options: IndexedDbOptions): Promise<IndexedDbKeyValueStore> {
    const { factory, keyRange } = globals(options);
    const req = factory.open(options.name, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(KV_STORE)) db.createObjectStore(KV_STORE);
      if (!db.objectStoreNames.contains(META_STORE)) db.createObjectStore(META_STORE);
    };
    req.onblocked = () => undefined;
    const db = await request(req);
    // Another tab deleting or upgrading the database: let it.
    db.onversionchange = () => db.close();
    return new IndexedDbKeyValueStore(db, keyRange);
  }

  private tx(mode: 'readonly' | 'readwrite', store = KV_STORE): IdbTransaction {
    return this.db.transaction(store, mode, mode === 'readwrite' ? { durability: 'strict' } : undefined);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const v = await request(this.tx('readonly').objectStore(KV_STORE).get(key));
    if (v === undefined) return undefined;
    if (!(v instanceof Uint8Array))
      throw new E2EError('store_corrupt', `stored value ${JSON.stringify(key)} is not bytes`);
    return v;
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    const tx = this.tx('readwrite');
    const done = committed(tx);
    tx.objectStore(KV_STORE).put(value.slice(), key);
    await done;
  }

  async delete(key: string): Promise<void> {
    const tx = this.tx('readwrite');
    const done = committed(tx);
    tx.objectStore(KV_STORE).delete(key);
    await done;
  }

  async keys(prefix: string): Promise<string[]> {
    const range = prefix === '' ? undefined : this.keyRange.bound(prefix, `${prefix}\uffff`);
    const keys = await request(this.tx('readonly').objectStore(KV_STORE).getAllKeys(range));
    return keys.filter((k): k is string => typeof k === 'string' && k.startsWith(prefix));
  }

  /**
   * The database's storage key: loaded, or generated (non-extractable) and stored on first
   * use. Two tabs racing on first use agree on one key: the check and the insert run in one
   * transaction.
   */
  async storageKey(): Promise<WebCryptoKey> {
    const fresh = await generateStorageKey();
    const tx = this.tx('readwrite', META_STORE);
    const done = committed(tx);
    const store = tx.objectStore(META_STORE);
    let key: WebCryptoKey | undefined;
    const get = store.get(WRAPPING_KEY);
    get.onsuccess = () => {
      if (get.result) key = get.result as WebCryptoKey;
      else {
        store.add(fresh, WRAPPING_KEY);
        key = fresh;
      }
    };
    await done;
    if (!key) throw new E2EError('store_corrupt', 'no storage key');
    if ((key as { extractable?: boolean }).extractable !== false) {
      throw new E2EError('store_corrupt', 'the stored storage key is extractable');
    }
    return key;
  }

  close(): void {
    this.db.close();
  }
}

/** An encrypted IndexedDB key store, ready for {@link E2EKeyStore}. */
export interface IndexedDbKeyStore extends KeyValueStore {
  /** The underlying database (raw ciphertext values), e.g. to close it. */
  readonly raw: IndexedDbKeyValueStore;
}

/**
 * Opens (creating on first use) the encrypted IndexedDB store `options.name`: values are
 * AES-GCM-encrypted under the database's non-extractable storage key.
 */
export async function openIndexedDbKeyStore(options: IndexedDbOptions): Promise<IndexedDbKeyStore> {
  const raw = await IndexedDbKeyValueStore.open(options);
  const encrypted = new EncryptedKeyValueStore(raw, await raw.storageKey());
  return Object.assign(encrypted, { raw });
}

/** Deletes a database (sign-out with "forget this device"). */
export async function deleteIndexedDbKeyStore(options: IndexedDbOptions): Promise<void> {
  await request(globals(options).factory.deleteDatabase(options.name));
}

/**
 * Values encrypted at rest: AES-256-GCM under a WebCrypto key, a fresh 96-bit IV per write,
 * and the entry's key name as associated data (so stored values cannot be swapped between
 * entries). Stored value = version 1 (1 byte) || IV (12) || ciphertext+tag.
 *
 * With a non-extractable key (see `indexeddb-kv.ts`) the raw key bytes never exist in
 * JavaScript: someone who copies the database files gets ciphertext only. (Script running in
 * the page can still use the key; that is outside this protection.) Key names stay in the clear.
 */
import { concatBytes, randomBytes, utf8 } from './bytes.js';
import { E2EError } from './errors.js';
import type { KeyValueStore } from './kv.js';

type Subtle = typeof globalThis.crypto.subtle;
/** A WebCrypto `CryptoKey` (typed without the DOM library). */
export type WebCryptoKey = Parameters<Subtle['encrypt']>[1];

const VERSION = 1;
const IV_LENGTH = 12;

/** A copy backed by a plain ArrayBuffer, as WebCrypto's BufferSource wants. */
function plain(b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

function ad(key: string): Uint8Array<ArrayBuffer> {
  return plain(utf8(`chatalot/e2e-kv/v1\n${key}`));
}

/** Generates a non-extractable AES-256-GCM key for {@link EncryptedKeyValueStore}. */
export async function generateStorageKey(): Promise<WebCryptoKey> {
  return (await globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ])) as WebCryptoKey;
}

/** Wraps a byte store: values are encrypted before they reach it and authenticated on the way out. */
export class EncryptedKeyValueStore implements KeyValueStore {
  constructor(
    private readonly inner: KeyValueStore,
    private readonly key: WebCryptoKey,
  ) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    const stored = await this.inner.get(key);
    if (stored === undefined) return undefined;
    if (stored.length < 1 + IV_LENGTH + 16 || stored[0] !== VERSION) {
      throw new E2EError('store_corrupt', `stored value ${JSON.stringify(key)} is malformed`);
    }
    try {
      const plaintext = await globalThis.crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: plain(stored.subarray(1, 1 + IV_LENGTH)), additionalData: ad(key) },
        this.key,
        plain(stored.subarray(1 + IV_LENGTH)),
      );
      return new Uint8Array(plaintext);
    } catch {
      throw new E2EError('store_corrupt', `stored value ${JSON.stringify(key)} failed authentication`);
    }
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    const iv = plain(randomBytes(IV_LENGTH));
    const ciphertext = await globalThis.crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: ad(key) },
      this.key,
      plain(value),
    );
    await this.inner.set(key, concatBytes(Uint8Array.of(VERSION), iv, new Uint8Array(ciphertext)));
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  keys(prefix: string): Promise<string[]> {
    return this.inner.keys(prefix);
  }
}

/**
 * Storage interfaces. The library keeps no state of its own between calls: every session,
 * sender key and prekey is read from and written to these async stores, so a process that
 * crashes and restarts resumes exactly from what was persisted. Implementations must make a
 * write durable before the returned promise resolves (e.g. an IndexedDB transaction commit).
 *
 * Session and sender-key state is stored as opaque bytes (versioned serialization).
 */
import type { OneTimePreKey, SignedPreKey } from './keys.js';

/** Pairwise sessions, keyed by `addressKey(address)`. */
export interface SessionStore {
  loadSession(address: string): Promise<Uint8Array | undefined>;
  storeSession(address: string, record: Uint8Array): Promise<void>;
  deleteSession(address: string): Promise<void>;
}

/** This device's prekeys, and the X3DH base keys already accepted (prekey replay protection). */
export interface PreKeyStore {
  loadSignedPreKey(keyId: number): Promise<SignedPreKey | undefined>;
  storeSignedPreKey(key: SignedPreKey): Promise<void>;
  /** Removing a signed prekey also forgets the base keys seen with it. */
  removeSignedPreKey(keyId: number): Promise<void>;
  loadOneTimePreKey(keyId: number): Promise<OneTimePreKey | undefined>;
  storeOneTimePreKey(key: OneTimePreKey): Promise<void>;
  removeOneTimePreKey(keyId: number): Promise<void>;
  /** Whether a session was already established with this base key under this signed prekey. */
  hasSeenBaseKey(signedPreKeyId: number, baseKey: Uint8Array): Promise<boolean>;
  markBaseKeySeen(signedPreKeyId: number, baseKey: Uint8Array): Promise<void>;
}

/** Sender-key state (ours and other members'), keyed by an opaque string. */
export interface SenderKeyStore {
  loadSenderKey(key: string): Promise<Uint8Array | undefined>;
  storeSenderKey(key: string, record: Uint8Array): Promise<void>;
  deleteSenderKey(key: string): Promise<void>;
}

/** Trust state of a contact's identity key. */
export type TrustState = 'unverified' | 'verified' | 'changed';

/** What we know about one user's identity key. */
export interface TrustRecord {
  /** The identity key we trust (first seen, or last accepted/verified). */
  identityKey: Uint8Array;
  state: TrustState;
  /** When state is `changed`: the new key seen and not yet accepted. */
  pendingIdentityKey?: Uint8Array | undefined;
  updatedAt: number;
}

/** Trust-on-first-use records per user id. */
export interface TrustStore {
  loadTrust(userId: string): Promise<TrustRecord | undefined>;
  storeTrust(userId: string, record: TrustRecord): Promise<void>;
}

const copy = <T>(v: T): T => structuredClone(v);

/** In-memory {@link SessionStore}; values are copied on the way in and out. */
export class InMemorySessionStore implements SessionStore {
  readonly map = new Map<string, Uint8Array>();
  async loadSession(address: string) {
    const v = this.map.get(address);
    return v && v.slice();
  }
  async storeSession(address: string, record: Uint8Array) {
    this.map.set(address, record.slice());
  }
  async deleteSession(address: string) {
    this.map.delete(address);
  }
}

/** In-memory {@link PreKeyStore}. */
export class InMemoryPreKeyStore implements PreKeyStore {
  readonly signed = new Map<number, SignedPreKey>();
  readonly oneTime = new Map<number, OneTimePreKey>();
  private readonly seen = new Map<number, Set<string>>();
  async loadSignedPreKey(keyId: number) {
    return copy(this.signed.get(keyId));
  }
  async storeSignedPreKey(key: SignedPreKey) {
    this.signed.set(key.keyId, copy(key));
  }
  async removeSignedPreKey(keyId: number) {
    this.signed.delete(keyId);
    this.seen.delete(keyId);
  }
  async loadOneTimePreKey(keyId: number) {
    return copy(this.oneTime.get(keyId));
  }
  async storeOneTimePreKey(key: OneTimePreKey) {
    this.oneTime.set(key.keyId, copy(key));
  }
  async removeOneTimePreKey(keyId: number) {
    this.oneTime.delete(keyId);
  }
  async hasSeenBaseKey(signedPreKeyId: number, baseKey: Uint8Array) {
    return this.seen.get(signedPreKeyId)?.has(baseKey.join(',')) ?? false;
  }
  async markBaseKeySeen(signedPreKeyId: number, baseKey: Uint8Array) {
    const set = this.seen.get(signedPreKeyId) ?? new Set<string>();
    set.add(baseKey.join(','));
    this.seen.set(signedPreKeyId, set);
  }
}

/** In-memory {@link SenderKeyStore}. */
export class InMemorySenderKeyStore implements SenderKeyStore {
  readonly map = new Map<string, Uint8Array>();
  async loadSenderKey(key: string) {
    const v = this.map.get(key);
    return v && v.slice();
  }
  async storeSenderKey(key: string, record: Uint8Array) {
    this.map.set(key, record.slice());
  }
  async deleteSenderKey(key: string) {
    this.map.delete(key);
  }
}

/** In-memory {@link TrustStore}. */
export class InMemoryTrustStore implements TrustStore {
  readonly map = new Map<string, TrustRecord>();
  async loadTrust(userId: string) {
    return copy(this.map.get(userId));
  }
  async storeTrust(userId: string, record: TrustRecord) {
    this.map.set(userId, copy(record));
  }
}

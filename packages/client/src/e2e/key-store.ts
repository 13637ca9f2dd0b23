/**
 * Every store @chatalot/crypto needs (sessions, prekeys, sender keys, trust) plus this
 * device's identity and registration, over one {@link KeyValueStore}. Each write is awaited
 * through to the KV store, so state the managers persist is durable before they go on (the
 * ratchets persist before returning a ciphertext).
 *
 * Key layout (names in the clear; values encrypted by an encrypting KV store):
 *   s/<deviceId>.<userId>         session record (crypto's versioned bytes)
 *   p/s/<keyId>, p/o/<keyId>      signed / one-time prekeys
 *   p/b/<spkId>/<baseKey hex>     X3DH base keys accepted under a signed prekey (replay guard)
 *   k/<sender>\n<groupId>         sender-key record (crypto's versioned bytes)
 *   t/<userId>                    trust record
 *   i/identity, i/device          identity key pair; device registration state
 *   m/…                           the messenger's own state (see messenger-state.ts)
 */
import type {
  IdentityKeyPair,
  OneTimePreKey,
  PreKeyStore,
  SenderKeyStore,
  SessionStore,
  SignedPreKey,
  TrustRecord,
  TrustStore,
} from '@chatalot/crypto';
import { decodeRecord, encodeRecord, toHex } from './bytes.js';
import type { KeyValueStore } from './kv.js';

/** The user's identity as this device holds it. */
export interface StoredIdentity {
  userId: string;
  identity: IdentityKeyPair;
}

/** One signed prekey this device generated (the private part is under `p/s/<keyId>`). */
export interface SignedPreKeyInfo {
  keyId: number;
  createdAt: number;
  /** When a newer signed prekey replaced it (it is kept a while for messages in flight). */
  replacedAt?: number;
  /** False while generated but not yet accepted by the server (the upload is retried). */
  published?: boolean;
}

/** This device's registration with the key service. */
export interface DeviceRecord {
  userId: string;
  /** Assigned by the server; absent until registration succeeded. */
  deviceId?: number;
  /** The next one-time prekey id to use (persisted before the keys are uploaded). */
  nextOneTimePreKeyId: number;
  /** The current signed prekey is the last one. */
  signedPreKeys: SignedPreKeyInfo[];
}

/** Implements every @chatalot/crypto store interface over one key-value store. */
export class E2EKeyStore implements SessionStore, PreKeyStore, SenderKeyStore, TrustStore {
  constructor(readonly kv: KeyValueStore) {}

  // Sessions
  loadSession(address: string): Promise<Uint8Array | undefined> {
    return this.kv.get(`s/${address}`);
  }
  storeSession(address: string, record: Uint8Array): Promise<void> {
    return this.kv.set(`s/${address}`, record);
  }
  deleteSession(address: string): Promise<void> {
    return this.kv.delete(`s/${address}`);
  }
  /** Address keys (`<deviceId>.<userId>`) of every stored session. */
  async sessionAddresses(): Promise<string[]> {
    return (await this.kv.keys('s/')).map((k) => k.slice(2));
  }

  // Prekeys
  async loadSignedPreKey(keyId: number): Promise<SignedPreKey | undefined> {
    return this.read<SignedPreKey>(`p/s/${keyId}`);
  }
  storeSignedPreKey(key: SignedPreKey): Promise<void> {
    return this.kv.set(`p/s/${key.keyId}`, encodeRecord(key));
  }
  async removeSignedPreKey(keyId: number): Promise<void> {
    await this.kv.delete(`p/s/${keyId}`);
    for (const k of await this.kv.keys(`p/b/${keyId}/`)) await this.kv.delete(k);
  }
  loadOneTimePreKey(keyId: number): Promise<OneTimePreKey | undefined> {
    return this.read<OneTimePreKey>(`p/o/${keyId}`);
  }
  storeOneTimePreKey(key: OneTimePreKey): Promise<void> {
    return this.kv.set(`p/o/${key.keyId}`, encodeRecord(key));
  }
  removeOneTimePreKey(keyId: number): Promise<void> {
    return this.kv.delete(`p/o/${keyId}`);
  }
  async hasSeenBaseKey(signedPreKeyId: number, baseKey: Uint8Array): Promise<boolean> {
    return (await this.kv.get(`p/b/${signedPreKeyId}/${toHex(baseKey)}`)) !== undefined;
  }
  markBaseKeySeen(signedPreKeyId: number, baseKey: Uint8Array): Promise<void> {
    return this.kv.set(`p/b/${signedPreKeyId}/${toHex(baseKey)}`, Uint8Array.of(1));
  }
  /** How many one-time prekeys this device still holds privately. */
  async oneTimePreKeyCount(): Promise<number> {
    return (await this.kv.keys('p/o/')).length;
  }

  // Sender keys
  loadSenderKey(key: string): Promise<Uint8Array | undefined> {
    return this.kv.get(`k/${key}`);
  }
  storeSenderKey(key: string, record: Uint8Array): Promise<void> {
    return this.kv.set(`k/${key}`, record);
  }
  deleteSenderKey(key: string): Promise<void> {
    return this.kv.delete(`k/${key}`);
  }

  // Trust
  loadTrust(userId: string): Promise<TrustRecord | undefined> {
    return this.read<TrustRecord>(`t/${userId}`);
  }
  storeTrust(userId: string, record: TrustRecord): Promise<void> {
    return this.kv.set(`t/${userId}`, encodeRecord(record));
  }
  /** Users with a trust record. */
  async trustedUsers(): Promise<string[]> {
    return (await this.kv.keys('t/')).map((k) => k.slice(2));
  }

  // Identity and registration
  loadIdentity(): Promise<StoredIdentity | undefined> {
    return this.read<StoredIdentity>('i/identity');
  }
  storeIdentity(identity: StoredIdentity): Promise<void> {
    return this.kv.set('i/identity', encodeRecord(identity));
  }
  loadDevice(): Promise<DeviceRecord | undefined> {
    return this.read<DeviceRecord>('i/device');
  }
  storeDevice(device: DeviceRecord): Promise<void> {
    return this.kv.set('i/device', encodeRecord(device));
  }

  /** Generic record access for the messenger's own state (`m/` keys). */
  async read<T>(key: string): Promise<T | undefined> {
    const bytes = await this.kv.get(key);
    return bytes === undefined ? undefined : decodeRecord<T>(bytes);
  }
  write(key: string, value: unknown): Promise<void> {
    return this.kv.set(key, encodeRecord(value));
  }
}

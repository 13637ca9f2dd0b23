import {
  generateOneTimePreKeys,
  generateSignedPreKey,
  defaultContext,
  generateIdentityKeyPair,
} from '@chatalot/crypto';
import { describe, expect, it } from 'vitest';
import { utf8 } from './bytes.js';
import { EncryptedKeyValueStore, generateStorageKey } from './encrypted-kv.js';
import { isE2EError } from './errors.js';
import { E2EKeyStore } from './key-store.js';
import { MemoryKeyValueStore } from './kv.js';

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isE2EError(e) ? e.code : String(e);
  }
  return undefined;
}

const contains = (hay: Uint8Array, needle: Uint8Array) => Buffer.from(hay).includes(Buffer.from(needle));

describe('E2EKeyStore', () => {
  it('implements every crypto store over a KV store', async () => {
    const ctx = defaultContext();
    const store = new E2EKeyStore(new MemoryKeyValueStore());
    const identity = generateIdentityKeyPair(ctx);
    const spk = generateSignedPreKey(ctx, identity, 7);
    const [opk] = generateOneTimePreKeys(ctx, 1, 1);
    await store.storeSignedPreKey(spk);
    await store.storeOneTimePreKey(opk!);
    expect(await store.loadSignedPreKey(7)).toEqual(spk);
    expect(await store.loadOneTimePreKey(1)).toEqual(opk);
    expect(await store.oneTimePreKeyCount()).toBe(1);
    await store.removeOneTimePreKey(1);
    expect(await store.loadOneTimePreKey(1)).toBeUndefined();

    const base = Uint8Array.of(1, 2, 3);
    await store.markBaseKeySeen(7, base);
    await store.markBaseKeySeen(70, base);
    expect(await store.hasSeenBaseKey(7, base)).toBe(true);
    await store.removeSignedPreKey(7);
    expect(await store.hasSeenBaseKey(7, base)).toBe(false);
    expect(await store.hasSeenBaseKey(70, base)).toBe(true); // another key's record is untouched

    await store.storeSession('1.bob', Uint8Array.of(9));
    expect(await store.loadSession('1.bob')).toEqual(Uint8Array.of(9));
    expect(await store.sessionAddresses()).toEqual(['1.bob']);
    await store.deleteSession('1.bob');
    expect(await store.loadSession('1.bob')).toBeUndefined();

    await store.storeSenderKey('1.bob\nchan', Uint8Array.of(5));
    expect(await store.loadSenderKey('1.bob\nchan')).toEqual(Uint8Array.of(5));

    const trust = {
      identityKey: identity.publicKey,
      state: 'changed' as const,
      pendingIdentityKey: base,
      updatedAt: 1,
    };
    await store.storeTrust('bob', trust);
    expect(await store.loadTrust('bob')).toEqual(trust);
    expect(await store.trustedUsers()).toEqual(['bob']);

    await store.storeIdentity({ userId: 'alice', identity });
    expect(await store.loadIdentity()).toEqual({ userId: 'alice', identity });
  });
});

describe('EncryptedKeyValueStore', () => {
  it('stores only ciphertext, under a key that cannot be exported', async () => {
    const key = await generateStorageKey();
    expect((key as { extractable: boolean }).extractable).toBe(false);
    await expect(globalThis.crypto.subtle.exportKey('raw', key)).rejects.toThrow();

    const raw = new MemoryKeyValueStore();
    const kv = new EncryptedKeyValueStore(raw, key);
    const secret = utf8('identity private key material');
    await kv.set('i/identity', secret);
    expect(await kv.get('i/identity')).toEqual(secret);
    const stored = (await raw.get('i/identity'))!;
    expect(contains(stored, secret)).toBe(false);
    expect(stored.length).toBe(1 + 12 + secret.length + 16);
    expect(await kv.keys('i/')).toEqual(['i/identity']);
    expect(await kv.get('missing')).toBeUndefined();

    // Two writes of the same value differ (fresh IV).
    await kv.set('i/other', secret);
    expect(await raw.get('i/other')).not.toEqual(stored);
  });

  it('refuses tampered values, values moved to another key, and another storage key', async () => {
    const key = await generateStorageKey();
    const raw = new MemoryKeyValueStore();
    const kv = new EncryptedKeyValueStore(raw, key);
    await kv.set('a', utf8('value a'));
    await kv.set('b', utf8('value b'));
    const a = (await raw.get('a'))!;

    const flipped = a.slice();
    flipped[flipped.length - 1]! ^= 1;
    await raw.set('a', flipped);
    expect(await code(kv.get('a'))).toBe('store_corrupt');

    await raw.set('a', (await raw.get('b'))!); // b's ciphertext under a's name
    expect(await code(kv.get('a'))).toBe('store_corrupt');

    await raw.set('a', a);
    expect(await code(new EncryptedKeyValueStore(raw, await generateStorageKey()).get('a'))).toBe('store_corrupt');
    await raw.set('a', Uint8Array.of(1, 2));
    expect(await code(kv.get('a'))).toBe('store_corrupt');
  });
});

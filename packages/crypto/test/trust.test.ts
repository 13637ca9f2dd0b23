/** Safety numbers, fingerprints and the TOFU trust store. */
import { describe, expect, it } from 'vitest';
import {
  acceptIdentity,
  checkIdentity,
  CryptoError,
  displayFingerprint,
  fingerprint,
  formatSafetyNumber,
  generateIdentityKeyPair,
  InMemoryTrustStore,
  markVerified,
  safetyNumber,
  scannableFingerprint,
  verifyScannableFingerprint,
} from '../src/index.js';
import { testContext } from './helpers.js';

describe('safety numbers', () => {
  const ctx = testContext('safety');
  const a = { userId: 'alice', identityKey: generateIdentityKeyPair(ctx).publicKey };
  const b = { userId: 'bob', identityKey: generateIdentityKeyPair(ctx).publicKey };

  it('are 60 digits, the same for both parties, and change with either key', () => {
    const n = safetyNumber(a, b);
    expect(n).toMatch(/^\d{60}$/);
    expect(safetyNumber(b, a)).toBe(n);
    expect(n).toContain(displayFingerprint('alice', a.identityKey));
    expect(n).toContain(displayFingerprint('bob', b.identityKey));
    const b2 = { userId: 'bob', identityKey: generateIdentityKeyPair(ctx).publicKey };
    expect(safetyNumber(a, b2)).not.toBe(n);
    expect(formatSafetyNumber(n).split(' ')).toHaveLength(12);
  });

  it('scannable codes verify only against the same pair of keys', () => {
    const shownByAlice = scannableFingerprint(a, b);
    expect(verifyScannableFingerprint(shownByAlice, b, a)).toBe(true);
    const b2 = { userId: 'bob', identityKey: generateIdentityKeyPair(ctx).publicKey };
    expect(verifyScannableFingerprint(shownByAlice, b2, a)).toBe(false);
    expect(fingerprint(a.identityKey)).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
  });
});

describe('TOFU trust store', () => {
  it('unverified on first use, verified after comparison, changed on a new key until accepted', async () => {
    const ctx = testContext('tofu');
    const store = new InMemoryTrustStore();
    const k1 = generateIdentityKeyPair(ctx).publicKey;
    const k2 = generateIdentityKeyPair(ctx).publicKey;
    await checkIdentity(store, 'bob', k1, 1);
    expect((await store.loadTrust('bob'))!.state).toBe('unverified');
    await markVerified(store, 'bob', k1, 2);
    expect((await store.loadTrust('bob'))!.state).toBe('verified');
    await checkIdentity(store, 'bob', k1, 3);
    await expect(checkIdentity(store, 'bob', k2, 4)).rejects.toSatisfy(
      (e) => e instanceof CryptoError && e.code === 'untrusted_identity',
    );
    const rec = (await store.loadTrust('bob'))!;
    expect(rec.state).toBe('changed');
    expect(rec.pendingIdentityKey).toEqual(k2);
    // still untrusted on retry, with either key, until accepted
    await expect(checkIdentity(store, 'bob', k2, 5)).rejects.toThrow(CryptoError);
    await expect(checkIdentity(store, 'bob', k1, 5)).rejects.toThrow(CryptoError);
    await expect(markVerified(store, 'bob', k2, 5)).rejects.toThrow(CryptoError);
    await acceptIdentity(store, 'bob', k2, 6);
    await checkIdentity(store, 'bob', k2, 7);
    expect((await store.loadTrust('bob'))!.state).toBe('unverified');
  });
});

/** Linking in one message: the envelope sealed to the new device's ephemeral key. */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, lp, toHex, utf8 } from '../src/bytes.js';
import { CryptoError, defaultContext, generateLinkKeyPair, openLinkEnvelope, sealLinkEnvelope } from '../src/index.js';
import { seededRng, testContext } from './helpers.js';

const SESSION = utf8('ABCDEFGHJK');
const PAYLOAD = utf8('the identity payload');

/** Sealed with the RNG seeded "link-kat" (new device's key first, then e, then the nonce). */
const KAT = {
  recipientPublic: '7e5001229d3167d814044a395b8580066b6f1a96e33ebed93d99f8eb952af737',
  envelope:
    '010cd27e769d6e4f7b1b7f644e8113c55548c8d3214ac1d13ebf978e27a6923ea216b2527778004e00416fc81ce70f6735d60b2b' +
    '1e8dc9af020169f7d82c1551d7337963ca735f5ccce101f0d3fef3aba8fe399cd32680ac06185700e3a1',
};

function expectFailure(fn: () => unknown): void {
  expect(fn).toThrow(CryptoError);
}

describe('link envelope', () => {
  it('matches the known answer, derived independently from the construction', () => {
    const ctx = defaultContext({ rng: seededRng('link-kat') });
    const recipient = generateLinkKeyPair(ctx);
    expect(toHex(recipient.publicKey)).toBe(KAT.recipientPublic);
    const envelope = sealLinkEnvelope(ctx, recipient.publicKey, SESSION, PAYLOAD);
    expect(toHex(envelope)).toBe(KAT.envelope);

    // The same bytes from @noble directly, following the comment in link-envelope.ts.
    const rng = seededRng('link-kat');
    const recipientPrivate = rng(32);
    const ePrivate = rng(32);
    const nonce = rng(24);
    const ePublic = x25519.getPublicKey(ePrivate);
    const recipientPublic = x25519.getPublicKey(recipientPrivate);
    const bound = concat(lp(utf8('chatalot/v1/link-envelope')), lp(SESSION));
    const key = hkdf(
      sha256,
      x25519.getSharedSecret(ePrivate, recipientPublic),
      concat(ePublic, recipientPublic),
      concat(lp(utf8('chatalot/v1/link-key')), bound),
      32,
    );
    const ad = concat(bound, ePublic, recipientPublic);
    const sealed = xchacha20poly1305(key, nonce, ad).encrypt(PAYLOAD);
    expect(toHex(concat(Uint8Array.of(1, 12), ePublic, nonce, sealed))).toBe(KAT.envelope);

    expect(openLinkEnvelope(ctx, recipient, SESSION, fromHex(KAT.envelope))).toEqual(PAYLOAD);
  });

  it('opens only unchanged, for its session and its key', () => {
    const ctx = testContext('link');
    const recipient = generateLinkKeyPair(ctx);
    const envelope = sealLinkEnvelope(ctx, recipient.publicKey, SESSION, PAYLOAD);
    expect(openLinkEnvelope(ctx, recipient, SESSION, envelope)).toEqual(PAYLOAD);

    for (let i = 0; i < envelope.length; i++) {
      const tampered = envelope.slice();
      tampered[i] = tampered[i]! ^ 0x01;
      expectFailure(() => openLinkEnvelope(ctx, recipient, SESSION, tampered));
    }
    expectFailure(() => openLinkEnvelope(ctx, recipient, utf8('ABCDEFGHJM'), envelope));
    expectFailure(() => openLinkEnvelope(ctx, generateLinkKeyPair(ctx), SESSION, envelope));
    expectFailure(() => openLinkEnvelope(ctx, recipient, SESSION, envelope.subarray(0, 60)));
    expectFailure(() => openLinkEnvelope(ctx, recipient, SESSION, concat(envelope, Uint8Array.of(0))));
  });

  it('uses a fresh sender key and nonce every time', () => {
    const ctx = testContext('fresh');
    const recipient = generateLinkKeyPair(ctx);
    const a = sealLinkEnvelope(ctx, recipient.publicKey, SESSION, PAYLOAD);
    const b = sealLinkEnvelope(ctx, recipient.publicKey, SESSION, PAYLOAD);
    expect(toHex(a.subarray(2, 58))).not.toBe(toHex(b.subarray(2, 58)));
  });

  it('refuses a low-order recipient key', () => {
    const ctx = testContext('low-order');
    expectFailure(() => sealLinkEnvelope(ctx, new Uint8Array(32), SESSION, PAYLOAD));
  });
});

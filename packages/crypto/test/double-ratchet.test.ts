/** Double Ratchet state machine, below the session layer. */
import { describe, expect, it } from 'vitest';
import {
  initInitiator,
  initResponder,
  MAX_STORED_SKIPPED,
  ratchetDecrypt,
  ratchetEncrypt,
  type RatchetState,
} from '../src/double-ratchet.js';
import { CryptoError } from '../src/errors.js';
import { generateX25519KeyPair } from '../src/primitives.js';
import { testContext, text, str } from './helpers.js';

const label = text('test-label');
const none = new Uint8Array(0);

describe('double ratchet', () => {
  it('stores at most MAX_STORED_SKIPPED skipped keys, evicting the oldest', () => {
    const ctx = testContext('dr-evict');
    const sk = ctx.rng(32);
    const ad = text('ad');
    const spk = generateX25519KeyPair(ctx);
    let a: RatchetState = initInitiator(ctx, sk, ad, spk.publicKey);
    let b: RatchetState = initResponder(sk, ad, spk);
    const firstOfChain: { header: Uint8Array; ciphertext: Uint8Array }[] = [];
    for (let round = 0; round < 3; round++) {
      let last!: { header: Uint8Array; ciphertext: Uint8Array };
      for (let i = 0; i <= 1000; i++) {
        const out = ratchetEncrypt(ctx, a, text(`r${round}m${i}`), label, none);
        a = out.state;
        if (i === 0) firstOfChain.push(out);
        last = out;
      }
      const got = ratchetDecrypt(ctx, b, last.header, last.ciphertext, label, none);
      b = got.state;
      expect(str(got.plaintext)).toBe(`r${round}m1000`);
      expect(b.skipped.length).toBe(Math.min(MAX_STORED_SKIPPED, 1000 * (round + 1)));
      const reply = ratchetEncrypt(ctx, b, text('ack'), label, none);
      b = reply.state;
      a = ratchetDecrypt(ctx, a, reply.header, reply.ciphertext, label, none).state;
    }
    // round 0's keys were evicted, round 1's are still there
    expect(() => ratchetDecrypt(ctx, b, firstOfChain[0]!.header, firstOfChain[0]!.ciphertext, label, none)).toThrow(
      CryptoError,
    );
    expect(
      str(ratchetDecrypt(ctx, b, firstOfChain[1]!.header, firstOfChain[1]!.ciphertext, label, none).plaintext),
    ).toBe('r1m0');
  });

  it('a different label or extra associated data fails authentication', () => {
    const ctx = testContext('dr-label');
    const sk = ctx.rng(32);
    const spk = generateX25519KeyPair(ctx);
    const a = initInitiator(ctx, sk, text('ad'), spk.publicKey);
    const b = initResponder(sk, text('ad'), spk);
    const out = ratchetEncrypt(ctx, a, text('x'), label, text('extra'));
    expect(() => ratchetDecrypt(ctx, b, out.header, out.ciphertext, text('other'), text('extra'))).toThrow(
      expect.objectContaining({ code: 'decrypt_failed' }),
    );
    expect(() => ratchetDecrypt(ctx, b, out.header, out.ciphertext, label, none)).toThrow(
      expect.objectContaining({ code: 'decrypt_failed' }),
    );
    const b2 = initResponder(sk, text('other ad'), spk);
    expect(() => ratchetDecrypt(ctx, b2, out.header, out.ciphertext, label, text('extra'))).toThrow(
      expect.objectContaining({ code: 'decrypt_failed' }),
    );
    expect(str(ratchetDecrypt(ctx, b, out.header, out.ciphertext, label, text('extra')).plaintext)).toBe('x');
  });

  it('a responder cannot send before it has received', () => {
    const ctx = testContext('dr-send');
    const spk = generateX25519KeyPair(ctx);
    const b = initResponder(ctx.rng(32), text('ad'), spk);
    expect(() => ratchetEncrypt(ctx, b, text('x'), label, none)).toThrow(
      expect.objectContaining({ code: 'invalid_state' }),
    );
  });
});

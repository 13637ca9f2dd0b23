/** Known-answer tests for the primitives exactly as the package calls them. */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../src/bytes.js';
import { dh, ed25519PublicKey, hkdfSha256, nobleAead, sign, verify, x25519PublicKey } from '../src/primitives.js';
import { CryptoError } from '../src/errors.js';

describe('X25519 (RFC 7748)', () => {
  it('§5.2 scalar multiplication vectors', () => {
    expect(
      toHex(
        dh(
          fromHex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'),
          fromHex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c'),
        ),
      ),
    ).toBe('c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
    expect(
      toHex(
        dh(
          fromHex('4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d'),
          fromHex('e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493'),
        ),
      ),
    ).toBe('95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957');
  });

  it('§6.1 Diffie-Hellman', () => {
    const a = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const b = fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
    expect(toHex(x25519PublicKey(a))).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    expect(toHex(x25519PublicKey(b))).toBe('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    expect(toHex(dh(a, x25519PublicKey(b)))).toBe(shared);
    expect(toHex(dh(b, x25519PublicKey(a)))).toBe(shared);
  });

  it('rejects a low-order public key (all-zero shared secret)', () => {
    expect(() =>
      dh(fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'), new Uint8Array(32)),
    ).toThrow(CryptoError);
  });
});

describe('Ed25519 (RFC 8032, strict verification)', () => {
  const vectors = [
    {
      sk: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      msg: '',
      sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    },
    {
      sk: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      msg: '72',
      sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    },
    {
      sk: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
      pk: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
      msg: 'af82',
      sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
    },
  ];

  it.each(vectors)('test vector $pk', (v) => {
    expect(toHex(ed25519PublicKey(fromHex(v.sk)))).toBe(v.pk);
    expect(toHex(sign(fromHex(v.sk), fromHex(v.msg)))).toBe(v.sig);
    expect(verify(fromHex(v.pk), fromHex(v.msg), fromHex(v.sig))).toBe(true);
  });

  it('rejects a non-canonical signature (S + L)', () => {
    const v = vectors[0]!;
    const sig = fromHex(v.sig);
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
    let t = s + L;
    const mall = sig.slice();
    for (let i = 0; i < 32; i++) {
      mall[32 + i] = Number(t & 0xffn);
      t >>= 8n;
    }
    expect(t).toBe(0n); // still fits in 32 bytes: only the range check can reject it
    expect(verify(fromHex(v.pk), fromHex(v.msg), mall)).toBe(false);
  });

  it('rejects a non-canonical public key encoding and a wrong message', () => {
    const v = vectors[1]!;
    expect(verify(fromHex(v.pk), fromHex('73'), fromHex(v.sig))).toBe(false);
    // y = p (non-canonical encoding of y = 0) is not accepted in strict mode
    const nonCanonical = fromHex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    expect(verify(nonCanonical, fromHex(v.msg), fromHex(v.sig))).toBe(false);
  });
});

describe('ChaCha20-Poly1305 (RFC 8439 §2.8.2) and XChaCha20-Poly1305', () => {
  const plaintext = utf8(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  );
  const aad = fromHex('50515253c0c1c2c3c4c5c6c7');
  const key = fromHex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');

  it('RFC 8439 AEAD vector', () => {
    const nonce = fromHex('070000004041424344454647');
    const out = nobleAead.seal('chacha20-poly1305', key, nonce, plaintext, aad);
    expect(toHex(out)).toBe(
      'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116' +
        '1ae10b594f09e26a7e902ecbd0600691',
    );
    expect(nobleAead.open('chacha20-poly1305', key, nonce, out, aad)).toEqual(plaintext);
    const bad = out.slice();
    bad[0]! ^= 1;
    expect(() => nobleAead.open('chacha20-poly1305', key, nonce, bad, aad)).toThrow(
      expect.objectContaining({ code: 'decrypt_failed' }),
    );
    expect(() => nobleAead.open('chacha20-poly1305', key, nonce, out, new Uint8Array(0))).toThrow(
      expect.objectContaining({ code: 'decrypt_failed' }),
    );
  });

  it('XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha A.3.1)', () => {
    const nonce = fromHex('404142434445464748494a4b4c4d4e4f5051525354555657');
    const out = nobleAead.seal('xchacha20-poly1305', key, nonce, plaintext, aad);
    expect(toHex(out)).toBe(
      'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e' +
        'c0875924c1c7987947deafd8780acf49',
    );
  });
});

describe('HKDF-SHA256 (RFC 5869)', () => {
  it('test case 1', () => {
    const okm = hkdfSha256(
      new Uint8Array(22).fill(0x0b),
      fromHex('000102030405060708090a0b0c'),
      fromHex('f0f1f2f3f4f5f6f7f8f9'),
      42,
    );
    expect(toHex(okm)).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });
  it('test case 3 (empty salt and info)', () => {
    const okm = hkdfSha256(new Uint8Array(22).fill(0x0b), new Uint8Array(0), new Uint8Array(0), 42);
    expect(toHex(okm)).toBe('8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
  });
});

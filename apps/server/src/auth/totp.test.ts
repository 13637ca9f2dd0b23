import { Secret, URI } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { createTotpSecret, matchTotp, totpAt, totpStep, totpUri, type TotpAlgorithm } from './totp.js';

const ascii = (s: string) => new TextEncoder().encode(s);

/** RFC 6238 Appendix B: seeds and expected 8-digit values. */
const RFC_SEEDS: Record<TotpAlgorithm, Uint8Array> = {
  SHA1: ascii('12345678901234567890'),
  SHA256: ascii('12345678901234567890123456789012'),
  SHA512: ascii('1234567890123456789012345678901234567890123456789012345678901234'),
};
const RFC_VECTORS: [number, TotpAlgorithm, string][] = [
  [59, 'SHA1', '94287082'],
  [59, 'SHA256', '46119246'],
  [59, 'SHA512', '90693936'],
  [1111111109, 'SHA1', '07081804'],
  [1111111109, 'SHA256', '68084774'],
  [1111111109, 'SHA512', '25091201'],
  [1111111111, 'SHA1', '14050471'],
  [1111111111, 'SHA256', '67062674'],
  [1111111111, 'SHA512', '99943326'],
  [1234567890, 'SHA1', '89005924'],
  [1234567890, 'SHA256', '91819424'],
  [1234567890, 'SHA512', '93441116'],
  [2000000000, 'SHA1', '69279037'],
  [2000000000, 'SHA256', '90698825'],
  [2000000000, 'SHA512', '38618901'],
  [20000000000, 'SHA1', '65353130'],
  [20000000000, 'SHA256', '77737706'],
  [20000000000, 'SHA512', '47863826'],
];

describe('totpAt (RFC 6238 Appendix B)', () => {
  it.each(RFC_VECTORS)('T=%i %s → %s', (seconds, algorithm, expected) => {
    expect(totpAt(RFC_SEEDS[algorithm], algorithm, 8, seconds)).toBe(expected);
  });

  it('copes with a Buffer that is a view into a larger pool', () => {
    const pooled = Buffer.from('12345678901234567890');
    expect(pooled.byteOffset !== 0 || pooled.buffer.byteLength !== 20).toBe(true);
    expect(totpAt(pooled, 'SHA1', 8, 59)).toBe('94287082');
  });
});

describe('matchTotp', () => {
  // The RFC SHA-1 seed, base32-encoded: matchTotp's path must agree with the RFC vectors.
  const rfcSecret = Secret.fromLatin1('12345678901234567890').base32;
  const secret = createTotpSecret();
  const now = 1_700_000_000_000;
  const step = totpStep(now);
  const codeAt = (s: number) => totpAt(Secret.fromBase32(secret).bytes, 'SHA1', 6, s * 30);

  it('accepts the RFC vector codes (6-digit truncation) at their times', () => {
    expect(matchTotp(rfcSecret, '287082', 59_000, null)).toBe(1);
    expect(matchTotp(rfcSecret, '081804', 1111111109_000, null)).toBe(37037036);
    expect(matchTotp(rfcSecret, '005924', 1234567890_000, null)).toBe(41152263);
  });

  it('accepts the current step and one step either side, and not two', () => {
    expect(matchTotp(secret, codeAt(step), now, null)).toBe(step);
    expect(matchTotp(secret, codeAt(step - 1), now, null)).toBe(step - 1);
    expect(matchTotp(secret, codeAt(step + 1), now, null)).toBe(step + 1);
    expect(matchTotp(secret, codeAt(step - 2), now, null)).toBeNull();
    expect(matchTotp(secret, codeAt(step + 2), now, null)).toBeNull();
  });

  it('uses the step boundaries exactly (period 30 s)', () => {
    const boundary = step * 30_000;
    expect(matchTotp(secret, codeAt(step - 2), boundary - 1, null)).toBe(step - 2);
    expect(matchTotp(secret, codeAt(step - 2), boundary, null)).toBeNull();
  });

  it('accepts a code once: replaying it, even later in its window, fails', () => {
    const code = codeAt(step);
    const used = matchTotp(secret, code, now, null);
    expect(used).toBe(step);
    expect(matchTotp(secret, code, now, used)).toBeNull();
    expect(matchTotp(secret, code, now + 30_000, used)).toBeNull();
  });

  it('rejects an older code once a newer step was used, and accepts the next one', () => {
    expect(matchTotp(secret, codeAt(step - 1), now, step)).toBeNull();
    expect(matchTotp(secret, codeAt(step + 1), now, step)).toBe(step + 1);
  });

  it('tolerates surrounding spaces', () => {
    expect(matchTotp(secret, `  ${codeAt(step)} `, now, null)).toBe(step);
  });

  it('returns null for garbage without throwing', () => {
    const code = codeAt(step);
    const garbage = [
      '',
      ' ',
      'abcdef',
      '12345',
      '1234567',
      `${code.slice(0, 3)} ${code.slice(3)}`,
      '12345a',
      '١٢٣٤٥٦',
      '-12345',
      '+12345',
      '1e5000',
      `${code}\n${code}`,
      '123456'.repeat(1000),
    ];
    for (const input of garbage) expect(matchTotp(secret, input, now, null)).toBeNull();
    expect(matchTotp(secret, 123456 as unknown as string, now, null)).toBeNull();
    expect(matchTotp(secret, code, Number.NaN, null)).toBeNull();
  });

  it('throws on a secret that is not base32 (a server bug, not user input)', () => {
    expect(() => matchTotp('not base32!', '123456', now, null)).toThrow(/base32/);
  });
});

describe('createTotpSecret / totpUri', () => {
  it('creates distinct 20-byte base32 secrets', () => {
    const a = createTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(Secret.fromBase32(a).bytes).toHaveLength(20);
    expect(createTotpSecret()).not.toBe(a);
  });

  it('builds an otpauth URI with the product parameters', () => {
    const secret = createTotpSecret();
    const uri = totpUri(secret, 'alice');
    expect(uri.startsWith('otpauth://totp/Chatalot:alice?')).toBe(true);
    const parsed = URI.parse(uri);
    expect(parsed.issuer).toBe('Chatalot');
    expect(parsed.label).toBe('alice');
    expect(parsed.secret.base32).toBe(secret);
    expect(parsed.algorithm).toBe('SHA1');
    expect(parsed.digits).toBe(6);
    expect('period' in parsed && parsed.period).toBe(30);
  });

  it('escapes account names and honours a custom issuer', () => {
    const uri = totpUri(createTotpSecret(), 'a b:c', 'My Server');
    expect(uri).toContain('otpauth://totp/My%20Server:a%20b%3Ac?issuer=My%20Server&');
  });
});

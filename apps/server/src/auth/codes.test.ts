import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CODE_ALPHABET,
  codesEqual,
  generateBackupCodes,
  generateRecoveryCode,
  hashCode,
  normalizeCode,
} from './codes.js';

const pepper = new Uint8Array(32).fill(7);
const otherPepper = new Uint8Array(32).fill(8);
const BACKUP = /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$/;
const RECOVERY = /^(?:[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}-){3}[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$/;

describe('alphabet', () => {
  it('has 32 distinct characters and none of 0, O, 1, I', () => {
    expect(CODE_ALPHABET).toHaveLength(32);
    expect(new Set(CODE_ALPHABET).size).toBe(32);
    for (const c of '0O1I') expect(CODE_ALPHABET).not.toContain(c);
  });
});

describe('generateBackupCodes / generateRecoveryCode', () => {
  it('makes 8 distinct XXXX-XXXX codes by default', () => {
    const codes = generateBackupCodes();
    expect(codes).toHaveLength(8);
    expect(new Set(codes).size).toBe(8);
    for (const code of codes) expect(code).toMatch(BACKUP);
  });

  it('honours the count and rejects silly counts', () => {
    expect(generateBackupCodes(1)).toHaveLength(1);
    expect(generateBackupCodes(20)).toHaveLength(20);
    for (const bad of [0, -1, 1.5, Number.NaN, 1000]) expect(() => generateBackupCodes(bad)).toThrow(RangeError);
  });

  it('makes XXXX-XXXX-XXXX-XXXX recovery codes', () => {
    const code = generateRecoveryCode();
    expect(code).toMatch(RECOVERY);
    expect(generateRecoveryCode()).not.toBe(code);
  });

  it('uses every alphabet character, roughly uniformly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      for (const c of generateRecoveryCode().replaceAll('-', '')) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    // 6400 characters, 200 expected per symbol; a biased generator would fall far outside this.
    expect(counts.size).toBe(32);
    for (const n of counts.values()) expect(n).toBeGreaterThan(120);
  });
});

describe('normalizeCode', () => {
  it('upper-cases and strips spaces and dashes', () => {
    expect(normalizeCode('abcd efgh')).toBe('ABCDEFGH');
    expect(normalizeCode('ABCD-EFGH')).toBe('ABCDEFGH');
    expect(normalizeCode(' abcd-efgh ')).toBe('ABCDEFGH');
    expect(normalizeCode('ABCDEFGH')).toBe('ABCDEFGH');
    expect(normalizeCode('abcd-efgh-jkmn-pq23')).toBe('ABCDEFGHJKMNPQ23');
    expect(normalizeCode('ab cd -- ef gh')).toBe('ABCDEFGH');
  });

  it('rejects characters outside the alphabet and other lengths', () => {
    for (const bad of [
      '',
      'ABCD-EFG',
      'ABCD-EFGHJ',
      'ABCD-EFG0',
      'ABCD-EFGO',
      'ABCD-EFG1',
      'ABCD-EFGI',
      'ABCD_EFGH',
      'ABCD.EFGH',
      'ÄBCD-EFGH',
      'ABCD-EFGH-JKMN',
      'ABCD-EFGH-JKMN-PQ2345',
      '¼BCDEFGH',
    ]) {
      expect(normalizeCode(bad)).toBeNull();
    }
    expect(normalizeCode(undefined as unknown as string)).toBeNull();
  });

  it('does not let Unicode case mapping smuggle in characters', () => {
    // 'ı' (dotless i) upper-cases to 'I', which is not in the alphabet; 'ß' grows to 'SS'.
    expect(normalizeCode('ıBCD-EFGH')).toBeNull();
    expect(normalizeCode('ßCD-EFGH')).toBe('SSCDEFGH');
  });
});

describe('hashCode / codesEqual', () => {
  it('is deterministic, 64 hex characters, and depends on the pepper', () => {
    const h = hashCode(pepper, 'ABCDEFGH');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hashCode(pepper, 'ABCDEFGH')).toBe(h);
    expect(hashCode(otherPepper, 'ABCDEFGH')).not.toBe(h);
    expect(hashCode(pepper, 'ABCDEFGJ')).not.toBe(h);
  });

  it('refuses unnormalized codes and short peppers', () => {
    expect(() => hashCode(pepper, 'ABCD-EFGH')).toThrow(/normalized/);
    expect(() => hashCode(pepper, 'abcdefgh')).toThrow(/normalized/);
    expect(() => hashCode(new Uint8Array(16), 'ABCDEFGH')).toThrow(/pepper/);
  });

  it('compares equal strings as equal and anything else as different', () => {
    const h = hashCode(pepper, 'ABCDEFGH');
    expect(codesEqual(h, hashCode(pepper, 'ABCDEFGH'))).toBe(true);
    expect(codesEqual(h, hashCode(pepper, 'ABCDEFGJ'))).toBe(false);
    expect(codesEqual(h, h.slice(1))).toBe(false);
    expect(codesEqual('', '')).toBe(true);
    expect(codesEqual('a', '')).toBe(false);
  });
});

describe('properties', () => {
  it('every generated code normalizes to itself without dashes and hashes deterministically', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.constantFrom('lower', 'upper', 'spaces', 'dashes'), (recovery, style) => {
        const code = recovery ? generateRecoveryCode() : (generateBackupCodes(1)[0] ?? '');
        const bare = code.replaceAll('-', '');
        const typed =
          style === 'lower'
            ? code.toLowerCase()
            : style === 'spaces'
              ? code.replaceAll('-', ' ')
              : style === 'dashes'
                ? code
                : bare;
        expect(normalizeCode(code)).toBe(bare);
        expect(normalizeCode(typed)).toBe(bare);
        expect(hashCode(pepper, bare)).toBe(hashCode(pepper, normalizeCode(typed) ?? ''));
      }),
      { numRuns: 300 },
    );
  });

  it('normalizeCode is idempotent and only ever returns alphabet strings of length 8 or 16', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 24, unit: fc.constantFrom(...`${CODE_ALPHABET}abcxyz0O1I -_`) }), (input) => {
        const out = normalizeCode(input);
        if (out === null) return;
        expect([8, 16]).toContain(out.length);
        for (const c of out) expect(CODE_ALPHABET).toContain(c);
        expect(normalizeCode(out)).toBe(out);
      }),
    );
  });

  it('codesEqual agrees with ===', () => {
    const anyString = fc.string({ unit: 'binary' });
    fc.assert(fc.property(anyString, anyString, (a, b) => codesEqual(a, b) === (a === b)));
    fc.assert(fc.property(anyString, (a) => codesEqual(a, a)));
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }),
        (h) => codesEqual(h, `${h.slice(0, 63)}x`) === false,
      ),
    );
    expect(codesEqual('\uD800', '\uD801')).toBe(false);
  });
});

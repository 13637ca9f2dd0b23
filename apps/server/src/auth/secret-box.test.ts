import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openSecret, sealSecret, SecretBoxError } from './secret-box.js';

const key = new Uint8Array(randomBytes(32));
const otherKey = new Uint8Array(randomBytes(32));
const plaintext = new TextEncoder().encode('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
const context = 'totp:user-1';

/** Flips one bit of the decoded sealed value at `index` and re-encodes it. */
function flipBit(sealed: string, index: number): string {
  const bytes = Buffer.from(sealed, 'base64url');
  bytes[index] = (bytes[index] ?? 0) ^ 1;
  return bytes.toString('base64url');
}

describe('sealSecret / openSecret', () => {
  it('round-trips and uses a fresh nonce every time', () => {
    const a = sealSecret(key, plaintext, context);
    const b = sealSecret(key, plaintext, context);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(openSecret(key, a, context)).toEqual(plaintext);
    expect(openSecret(key, b, context)).toEqual(plaintext);
  });

  it('has the documented layout: version 1, 24-byte nonce, ciphertext plus 16-byte tag', () => {
    const bytes = Buffer.from(sealSecret(key, plaintext, context), 'base64url');
    expect(bytes[0]).toBe(1);
    expect(bytes.length).toBe(1 + 24 + plaintext.length + 16);
  });

  it('accepts a Node Buffer key (as loaded from secrets) and an empty plaintext', () => {
    const bufferKey = Buffer.from(key);
    const sealed = sealSecret(bufferKey, new Uint8Array(0), context);
    expect(openSecret(key, sealed, context)).toEqual(new Uint8Array(0));
  });

  it('does not open with the wrong key', () => {
    const sealed = sealSecret(key, plaintext, context);
    expect(() => openSecret(otherKey, sealed, context)).toThrow(SecretBoxError);
  });

  it('does not open under another context (value copied to another user)', () => {
    const sealed = sealSecret(key, plaintext, context);
    expect(() => openSecret(key, sealed, 'totp:user-2')).toThrow(SecretBoxError);
  });

  it('detects tampering with any byte: version, nonce, ciphertext or tag', () => {
    const sealed = sealSecret(key, plaintext, context);
    const length = Buffer.from(sealed, 'base64url').length;
    for (let i = 0; i < length; i++) {
      expect(() => openSecret(key, flipBit(sealed, i), context)).toThrow(SecretBoxError);
    }
  });

  it('rejects truncated, extended, non-base64url and non-canonical input', () => {
    const sealed = sealSecret(key, plaintext, context);
    const bytes = Buffer.from(sealed, 'base64url');
    const bad = [
      '',
      'not base64!',
      `${sealed}==`,
      `${sealed} `,
      bytes.subarray(0, bytes.length - 1).toString('base64url'),
      Buffer.concat([bytes, Buffer.of(0)]).toString('base64url'),
      bytes.subarray(0, 40).toString('base64url'),
      Buffer.of(1).toString('base64url'),
    ];
    for (const value of bad) expect(() => openSecret(key, value, context)).toThrow(SecretBoxError);
  });

  it('rejects an unknown version even when the rest is intact', () => {
    const bytes = Buffer.from(sealSecret(key, plaintext, context), 'base64url');
    bytes[0] = 2;
    expect(() => openSecret(key, bytes.toString('base64url'), context)).toThrow(/unknown version/);
  });

  it('rejects keys that are not 32 bytes and an empty context', () => {
    for (const badKey of [new Uint8Array(0), new Uint8Array(16), new Uint8Array(31), new Uint8Array(33)]) {
      expect(() => sealSecret(badKey, plaintext, context)).toThrow(SecretBoxError);
      expect(() => openSecret(badKey, 'AAAA', context)).toThrow(SecretBoxError);
    }
    expect(() => sealSecret(key, plaintext, '')).toThrow(SecretBoxError);
    expect(() => openSecret(key, sealSecret(key, plaintext, context), '')).toThrow(SecretBoxError);
  });

  it('SecretBoxError is a plain Error subclass', () => {
    const err = new SecretBoxError('x');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('SecretBoxError');
  });
});

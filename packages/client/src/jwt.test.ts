import { describe, expect, it } from 'vitest';
import { tokenTimes } from './jwt.js';

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (payload: unknown) => `${part({ alg: 'EdDSA', typ: 'JWT' })}.${part(payload)}.signature`;

describe('tokenTimes', () => {
  it('reads iat and exp from the payload, in milliseconds', () => {
    expect(tokenTimes(jwt({ sub: 'u1', iat: 1_700_000_000, exp: 1_700_000_900, name: 'Zoë ✓' }))).toEqual({
      issuedAt: 1_700_000_000_000,
      expiresAt: 1_700_000_900_000,
    });
  });

  it('returns null for anything that is not a JWT with numeric times', () => {
    expect(tokenTimes('opaque-token')).toBeNull();
    expect(tokenTimes('a.%%%.c')).toBeNull();
    expect(tokenTimes(jwt({ exp: '1700000900', iat: 1 }))).toBeNull();
    expect(tokenTimes(jwt({ exp: 1 }))).toBeNull();
  });
});

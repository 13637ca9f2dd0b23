import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { AccessTokens, ACCESS_TOKEN_TTL_SECS } from './tokens.js';
import { VerifiedTokens } from './verified-tokens.js';

const T0 = 1_800_000_000_000;

describe('VerifiedTokens', () => {
  it('answers only within the token’s validity window, in whole seconds as jose does', () => {
    const cache = new VerifiedTokens<string>();
    cache.add('a', { claims: 'A', exp: 1000, nbf: 900 }, 950_000);
    expect(cache.get('a', 899_999)).toBeUndefined(); // before nbf: dropped, verify afresh
    cache.add('a', { claims: 'A', exp: 1000, nbf: 900 }, 950_000);
    expect(cache.get('a', 900_000)).toBe('A');
    expect(cache.get('a', 999_999)).toBe('A');
    expect(cache.get('a', 1_000_000)).toBeUndefined(); // exp <= now: expired
    expect(cache.size).toBe(0);
    expect(cache.get('b', 950_000)).toBeUndefined();
  });

  it('never stores a token that is not valid now', () => {
    const cache = new VerifiedTokens<string>();
    cache.add('old', { claims: 'A', exp: 10 }, 10_000);
    expect(cache.size).toBe(0);
  });

  it('stays within its cap, evicting the oldest first, and sweeps expired entries', () => {
    const cache = new VerifiedTokens<number>(3);
    for (let i = 0; i < 5; i++) cache.add(`t${i}`, { claims: i, exp: 100 + i }, 0);
    expect(cache.size).toBe(3);
    expect(cache.get('t0', 0)).toBeUndefined();
    expect(cache.get('t4', 0)).toBe(4);
    cache.add('late', { claims: 9, exp: 500 }, 103_000); // t2 (exp 102) has expired by now
    expect(cache.get('t2', 0)).toBeUndefined();
    expect(cache.get('late', 103_000)).toBe(9);
  });
});

describe('AccessTokens with remembered verifications', () => {
  const keys = generateKeyPairSync('ed25519');
  const tokens = new AccessTokens(keys, 'https://chat.example');
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (err: unknown) => (err instanceof AppError ? err.code : 'other'),
    );

  it('gives the same claims from the cache and still expires the token on time', async () => {
    const token = await tokens.issue({ userId: 'u1', sessionId: 's1' }, T0);
    const first = await tokens.verify(token, T0 + 1000);
    const again = await tokens.verify(token, T0 + 2000);
    expect(again).toEqual(first);
    expect(first).toEqual({ userId: 'u1', sessionId: 's1', expiresAtMs: T0 + ACCESS_TOKEN_TTL_SECS * 1000 });
    expect(await code(tokens.verify(token, T0 + ACCESS_TOKEN_TTL_SECS * 1000 - 1))).toBe('ok');
    expect(await code(tokens.verify(token, T0 + ACCESS_TOKEN_TTL_SECS * 1000))).toBe('token_expired');
  });

  it('does not let a known token vouch for a tampered copy of it', async () => {
    const token = await tokens.issue({ userId: 'u2', sessionId: 's2' }, T0);
    await tokens.verify(token, T0);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    expect(await code(tokens.verify(`${header}.${payload}.${flipped}`, T0))).toBe('invalid_token');
  });

  it('does not accept tokens of another key even after the same claims were verified', async () => {
    const other = new AccessTokens(generateKeyPairSync('ed25519'), 'https://chat.example');
    const token = await tokens.issue({ userId: 'u3', sessionId: 's3' }, T0);
    await tokens.verify(token, T0);
    expect(await code(other.verify(token, T0))).toBe('invalid_token');
  });
});

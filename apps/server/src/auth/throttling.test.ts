import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCounterStore } from '../rate-limit/index.js';
import { login, registerUser, statusAndCode } from '../test-support/accounts.js';
import { createTestApp, GENEROUS_RATE_LIMITS, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { createUser, type TestUser } from '../test-support/users.js';

/** Buckets that never refill during a test, so the outcome does not depend on timing. */
const NO_REFILL = 1e-6;

function expectRateLimited(res: LightMyRequestResponse, maxSecs: number) {
  expect(res.statusCode, res.body).toBe(429);
  expect(res.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSecs);
}

describe.each(DIALECTS)('login lockout on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let victim: TestUser;

  beforeAll(async () => {
    t = await createTestApp(dialect, {
      deps: { counterStore: new MemoryCounterStore(), rateLimits: GENEROUS_RATE_LIMITS },
    });
    app = t.app;
    await registerUser(app, 'owner');
    victim = await createUser(t, 'victim');
  });
  afterAll(() => t.close());

  it('locks the account for the offending address after 10 failures, not for the owner elsewhere', async () => {
    const attacker = '192.0.2.10';
    for (let i = 0; i < 10; i++) {
      const res = await login(app, victim.username, `wrong password ${i}`, { remoteAddress: attacker });
      expect(statusAndCode(res)).toEqual([401, 'invalid_credentials']);
    }
    // The 11th attempt from the same address is refused even with the right password.
    const locked = await login(app, victim.username, victim.password, { remoteAddress: attacker });
    expectRateLimited(locked, 15 * 60);
    // Differently cased username: the same account, still locked.
    const upper = await login(app, victim.username.toUpperCase(), victim.password, { remoteAddress: attacker });
    expect(upper.statusCode).toBe(429);

    // The owner, from another address, still signs in.
    const owner = await login(app, victim.username, victim.password, { remoteAddress: '198.51.100.20' });
    expect(owner.statusCode, owner.body).toBe(200);
    // The lock holds for the attacker after the owner's success elsewhere.
    expect((await login(app, victim.username, victim.password, { remoteAddress: attacker })).statusCode).toBe(429);
    // And the attacker's address is not locked out of other accounts.
    const otherAccount = await login(app, 'owner', 'wrong again', { remoteAddress: attacker });
    expect(statusAndCode(otherAccount)).toEqual([401, 'invalid_credentials']);
  });

  it('locks unknown usernames the same way (no enumeration through the lock)', async () => {
    const source = '192.0.2.11';
    for (let i = 0; i < 10; i++) {
      const res = await login(app, 'nobody_here', `wrong password ${i}`, { remoteAddress: source });
      expect(statusAndCode(res)).toEqual([401, 'invalid_credentials']);
    }
    expectRateLimited(await login(app, 'nobody_here', 'anything at all', { remoteAddress: source }), 15 * 60);
  });

  it('answers an unknown user and a wrong password with the same status and body', async () => {
    const unknown = await login(app, 'no_such_user', 'some password', { remoteAddress: '192.0.2.12' });
    const wrong = await login(app, 'owner', 'some password', { remoteAddress: '192.0.2.12' });
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.body).toBe(wrong.body);
    expect(unknown.headers['content-type']).toBe(wrong.headers['content-type']);
  });
});

describe.each(DIALECTS)('per-IP token buckets on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let user: TestUser;

  beforeAll(async () => {
    t = await createTestApp(dialect, {
      deps: {
        counterStore: new MemoryCounterStore(),
        rateLimits: {
          auth: { capacity: 10, refillPerSec: NO_REFILL },
          general: { capacity: 50, refillPerSec: NO_REFILL },
        },
      },
    });
    app = t.app;
    user = await createUser(t, 'bucket_user');
  });
  afterAll(() => t.close());

  const refresh = (remoteAddress: string) =>
    app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: 'x'.repeat(43) }, remoteAddress });

  it('gives 429 with Retry-After on auth routes once the burst of 10 is spent', async () => {
    for (let i = 0; i < 10; i++) expect((await refresh('203.0.113.50')).statusCode).toBe(401);
    expectRateLimited(await refresh('203.0.113.50'), 1e7);
    // The auth bucket is shared by the auth routes: login from that address is refused too.
    const loginRes = await login(app, user.username, user.password, { remoteAddress: '203.0.113.50' });
    expect(loginRes.statusCode).toBe(429);
    // Another address has its own bucket.
    expect((await refresh('203.0.113.51')).statusCode).toBe(401);
    // Addresses of one IPv6 /64 share a bucket.
    for (let i = 0; i < 10; i++) expect((await refresh(`2001:db8:1:2::${i + 1}`)).statusCode).toBe(401);
    expect((await refresh('2001:db8:1:2::ffff')).statusCode).toBe(429);
  });

  it('gives 429 with Retry-After on general routes once the burst of 50 is spent', async () => {
    const profile = () =>
      app.inject({ method: 'GET', url: '/api/account/profile', headers: user.auth, remoteAddress: '203.0.113.60' });
    for (let i = 0; i < 50; i++) expect((await profile()).statusCode).toBe(200);
    expectRateLimited(await profile(), 1e7);
    // Unknown /api URLs draw from the same bucket.
    const probe = await app.inject({ method: 'GET', url: '/api/does-not-exist', remoteAddress: '203.0.113.60' });
    expect(probe.statusCode).toBe(429);
  });

  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        payload: { refresh_token: 'x'.repeat(43) },
        remoteAddress: '203.0.113.70',
        headers: { 'x-forwarded-for': `10.0.0.${i}` },
      });
      expect(res.statusCode).toBe(401);
    }
    const res = await app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: 'x'.repeat(43) },
      remoteAddress: '203.0.113.70',
      headers: { 'x-forwarded-for': '10.0.0.99' },
    });
    expect(res.statusCode).toBe(429);
  });
});

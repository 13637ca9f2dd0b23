import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../errors.js';
import type { CounterStore } from './counter-store.js';
import { registerRateLimits } from './http-rate-limit.js';
import { MemoryCounterStore } from './memory-counter-store.js';

const T0 = 1_700_000_000_000;

describe('registerRateLimits', () => {
  let app: FastifyInstance | undefined;
  let t = T0;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function build(options: { store?: CounterStore; trustProxy?: boolean; failOpen?: boolean } = {}) {
    t = T0;
    app = Fastify({ trustProxy: options.trustProxy ?? false });
    installErrorHandling(app);
    registerRateLimits(app, {
      store: options.store ?? new MemoryCounterStore(),
      now: () => t,
      ...(options.failOpen === undefined ? {} : { failOpen: options.failOpen }),
    });
    app.get('/api/ping', async () => ({ ok: true }));
    app.post('/api/auth/login', { config: { rateLimit: 'auth' } }, async () => ({ ok: true }));
    app.get('/api/metrics', { config: { rateLimit: 'none' } }, async () => ({ ok: true }));
    app.get('/', async () => 'web app');
    await app.ready();
    return app;
  }

  const get = (url: string, remoteAddress = '203.0.113.1', headers: Record<string, string> = {}) =>
    app!.inject({ method: 'GET', url, remoteAddress, headers });
  const login = (remoteAddress = '203.0.113.1') =>
    app!.inject({ method: 'POST', url: '/api/auth/login', remoteAddress, payload: {} });
  async function burst(n: number, send: () => Promise<LightMyRequestResponse>): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await send()).statusCode);
    return statuses;
  }
  function expectLimited(res: LightMyRequestResponse, retryAfter: string) {
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe(retryAfter);
    expect(res.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
  }

  it('allows a burst of 50, refuses the 51st with Retry-After and the error envelope', async () => {
    await build();
    expect(await burst(50, () => get('/api/ping'))).toEqual(Array(50).fill(200));
    expectLimited(await get('/api/ping'), '1');
  });

  it('limits each client IP separately', async () => {
    await build();
    await burst(51, () => get('/api/ping'));
    expect((await get('/api/ping', '203.0.113.2')).statusCode).toBe(200);
    expect((await get('/api/ping')).statusCode).toBe(429);
  });

  it('refills at 20 requests per second', async () => {
    await build();
    await burst(51, () => get('/api/ping'));
    t += 49;
    expect((await get('/api/ping')).statusCode).toBe(429);
    t += 1; // 50 ms: one token
    expect((await get('/api/ping')).statusCode).toBe(200);
    expect((await get('/api/ping')).statusCode).toBe(429);
    t += 1000; // 20 tokens
    expect(await burst(21, () => get('/api/ping'))).toEqual([...Array(20).fill(200), 429]);
    t += 60_000; // back to the full burst, not more
    expect(await burst(51, () => get('/api/ping'))).toEqual([...Array(50).fill(200), 429]);
  });

  it('limits auth routes at 10 per burst and 5 per second, in a bucket of their own', async () => {
    await build();
    expect(await burst(10, () => login())).toEqual(Array(10).fill(200));
    expectLimited(await login(), '1');
    // The general bucket is untouched by auth requests, and vice versa.
    expect((await get('/api/ping')).statusCode).toBe(200);
    expect((await login('203.0.113.9')).statusCode).toBe(200);
    t += 199;
    expect((await login()).statusCode).toBe(429);
    t += 1; // 200 ms: one token at 5/s
    expect((await login()).statusCode).toBe(200);
    expect((await login()).statusCode).toBe(429);
  });

  it('also limits unknown /api URLs, but not exempt routes or the web app', async () => {
    await build();
    const statuses = await burst(51, () => get('/api/no-such-route?x=1'));
    expect(statuses.slice(0, 50)).toEqual(Array(50).fill(404));
    expectLimited(await get('/api/ping'), '1');
    expect(await burst(100, () => get('/api/metrics'))).toEqual(Array(100).fill(200));
    expect(await burst(100, () => get('/'))).toEqual(Array(100).fill(200));
  });

  it('keys on request.ip, so trustProxy decides whether X-Forwarded-For counts', async () => {
    await build({ trustProxy: true });
    const viaProxy = (client: string) => get('/api/ping', '10.0.0.1', { 'x-forwarded-for': client });
    await burst(50, () => viaProxy('198.51.100.1'));
    expect((await viaProxy('198.51.100.1')).statusCode).toBe(429);
    expect((await viaProxy('198.51.100.2')).statusCode).toBe(200);
    await app!.close();

    await build({ trustProxy: false });
    await burst(50, () => get('/api/ping', '10.0.0.1', { 'x-forwarded-for': '198.51.100.1' }));
    const spoofed = await get('/api/ping', '10.0.0.1', { 'x-forwarded-for': '198.51.100.2' });
    expect(spoofed.statusCode).toBe(429);
  });

  it('groups IPv6 clients per /64', async () => {
    await build();
    await burst(50, () => get('/api/ping', '2001:db8:1:2::1'));
    expect((await get('/api/ping', '2001:db8:1:2:ffff::9')).statusCode).toBe(429);
    expect((await get('/api/ping', '2001:db8:1:3::1')).statusCode).toBe(200);
  });

  it('lets requests through when the store fails, unless told to fail closed', async () => {
    const broken: CounterStore = {
      takeToken: async () => {
        throw new Error('redis down');
      },
      addFailure: async () => 0,
      countFailures: async () => 0,
      nthNewestFailure: async () => null,
      clearFailures: async () => undefined,
    };
    await build({ store: broken });
    expect((await get('/api/ping')).statusCode).toBe(200);
    await app!.close();
    await build({ store: broken, failOpen: false });
    const res = await get('/api/ping');
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('internal_error');
  });
});

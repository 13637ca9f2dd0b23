import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../errors.js';
import { helmetOptions, registerSecurityHeaders } from './security-headers.js';

const HASHES = ['sha256-abc'];

/** An app with a plain route, a failing route and a route setting its own CSP. */
async function appWith(register: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const app = Fastify({ trustProxy: true });
  installErrorHandling(app);
  await register(app);
  app.get('/ok', async () => ({ ok: true }));
  app.get('/boom', async () => {
    throw new Error('bug');
  });
  app.get('/own-csp', async (_request, reply) => {
    void reply.header('content-security-policy', "default-src 'none'; sandbox");
    return { ok: true };
  });
  await app.ready();
  return app;
}

const securityHeaders = (headers: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(headers).filter(
      ([name]) => !['date', 'content-length', 'content-type', 'connection'].includes(name),
    ),
  );

describe('security headers', () => {
  let ours: FastifyInstance;
  let plugin: FastifyInstance;

  beforeAll(async () => {
    ours = await appWith((app) => registerSecurityHeaders(app, HASHES));
    // What @fastify/helmet sets per request with the same options, plus our own two headers.
    plugin = await appWith(async (app) => {
      await app.register(helmet, helmetOptions(HASHES));
      app.addHook('onRequest', async (request, reply) => {
        reply.header('permissions-policy', (await ours.inject({ url: '/ok' })).headers['permissions-policy']);
        if (request.protocol === 'https')
          reply.header('strict-transport-security', 'max-age=63072000; includeSubDomains');
      });
    });
  });
  afterAll(async () => {
    await ours.close();
    await plugin.close();
  });

  it('are exactly the ones helmet sets, on answers, errors and unknown routes, over http and https', async () => {
    for (const url of ['/ok', '/boom', '/missing']) {
      for (const headers of [{}, { 'x-forwarded-proto': 'https' }]) {
        const [a, b] = await Promise.all([ours.inject({ url, headers }), plugin.inject({ url, headers })]);
        expect(securityHeaders(a.headers), url).toEqual(securityHeaders(b.headers));
      }
    }
    const plain = await ours.inject({ url: '/ok' });
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    expect(String(plain.headers['content-security-policy'])).toContain("'sha256-abc'");
    const https = await ours.inject({ url: '/ok', headers: { 'x-forwarded-proto': 'https' } });
    expect(https.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
  });

  it('leave a route its own value of a header', async () => {
    const res = await ours.inject({ url: '/own-csp' });
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
    expect(res.headers['x-frame-options']).toBe('DENY');
  });
});

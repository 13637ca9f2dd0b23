import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthResponse } from '@chatalot/protocol';
import { buildApp } from './app.js';
import { MemoryBroker } from './broker/memory-broker.js';
import { loadOrCreateSecrets } from './secrets.js';
import { createTestApp, type TestApp } from './test-support/test-app.js';
import { DIALECTS, createTestDatabase } from './test-support/test-db.js';
import { testConfig } from './test-support/test-config.js';

describe.each(DIALECTS)('HTTP app on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    app = t.app;
  });
  afterAll(async () => {
    await t.close();
  });

  it('reports health with version, uptime and dependency state', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    const body = HealthResponse.parse(res.json());
    expect(body).toMatchObject({ status: 'ok', version: '9.9.9', db: 'ok', broker: 'ok' });
    expect(body.uptime_secs).toBeGreaterThanOrEqual(0);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers unknown API paths with the JSON 404 envelope, for any method', async () => {
    for (const [method, url] of [
      ['GET', '/api/does-not-exist'],
      ['POST', '/api/nothing/here'],
      ['GET', '/api'],
      ['DELETE', '/some/page'],
    ] as const) {
      const res = await app.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    }
  });

  it('answers a malformed URL with the error envelope', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/assets/%' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('bad_request');
  });

  it('says the web app is not built instead of serving nothing', async () => {
    const res = await app.inject({ method: 'GET', url: '/channels/123' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('service_unavailable');
  });

  it('sends a request id and the security headers', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/health' });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const csp = String(res.headers['content-security-policy']);
    const scriptSrc = csp.split(';').find((d) => d.startsWith('script-src')) ?? '';
    expect(scriptSrc).toContain("'self'");
    expect(scriptSrc).not.toContain('unsafe-inline');
    expect(scriptSrc).not.toContain("'unsafe-eval'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['permissions-policy']).toContain('camera=(self)');
    expect(res.headers['permissions-policy']).toContain('microphone=(self)');
    expect(res.headers['permissions-policy']).toContain('display-capture=(self)');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('sends HSTS only for https requests that came through a trusted proxy', async () => {
    const viaProxy = await app.inject({
      method: 'GET',
      url: '/api/health',
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(viaProxy.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    const spoofed = await app.inject({
      method: 'GET',
      url: '/api/health',
      remoteAddress: '203.0.113.9',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(spoofed.headers['strict-transport-security']).toBeUndefined();
  });

  it('publishes an OpenAPI 3.1 document whose references all resolve', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('9.9.9');
    expect(doc.paths['/api/health'].get.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/HealthResponse',
    });
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of refs) {
      const name = ref.slice('"$ref":"#/components/schemas/'.length, -1);
      expect(doc.components.schemas[name], ref).toBeDefined();
    }
  });

  it('documents every API route it registers in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const documented = new Set(
      Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ':$1')}`),
      ),
    );
    const missing = app.routeTable
      .filter((r) => r.url.startsWith('/api/') && r.url !== '/api/openapi.json')
      .map((r) => `${r.method} ${r.url}`)
      .filter((r) => !documented.has(r));
    expect(missing).toEqual([]);
    expect(app.routeTable.length).toBeGreaterThan(20);
  });

  it('answers 503 with status degraded when the broker is down', async () => {
    const down = new MemoryBroker();
    await down.close();
    const config = testConfig();
    const other = await buildApp({
      config,
      database: t.db.database,
      broker: down,
      secrets: loadOrCreateSecrets(config),
      version: '1',
    });
    try {
      const res = await other.inject({ method: 'GET', url: '/api/health' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 'degraded', db: 'ok', broker: 'down' });
    } finally {
      await other.close();
    }
  });
});

describe('health when the database is down', () => {
  it('answers 503 with db down', async () => {
    const t = await createTestDatabase('sqlite');
    const config = testConfig();
    const app = await buildApp({
      config,
      database: t.database,
      broker: new MemoryBroker(),
      secrets: loadOrCreateSecrets(config),
      version: '1',
    });
    try {
      await t.database.close();
      const res = await app.inject({ method: 'GET', url: '/api/health' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 'degraded', db: 'down', broker: 'ok' });
    } finally {
      await app.close();
      await t.drop().catch(() => undefined);
    }
  });
});

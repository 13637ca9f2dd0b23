import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { MemoryBroker } from '../broker/memory-broker.js';
import { loadOrCreateSecrets } from '../secrets.js';
import { type TestDatabase, createTestDatabase } from '../test-support/test-db.js';
import { testConfig } from '../test-support/test-config.js';
import { inlineScriptHashes } from './web-app.js';

const BOOT = 'window.__boot = 1;';
const SHELL = `<!doctype html><html><head><script type="module" src="/_app/immutable/entry.js"></script></head><body><div id="app"></div><script>${BOOT}</script></body></html>`;
const WORKER = 'self.addEventListener("fetch", () => {});';
const ASSET = `export const x = "${'a'.repeat(2000)}";`;

/** A small build folder shaped like SvelteKit's static output. */
function fixtureBuild(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'chatalot-web-'));
  mkdirSync(path.join(dir, '_app', 'immutable'), { recursive: true });
  writeFileSync(path.join(dir, 'index.html'), SHELL);
  writeFileSync(path.join(dir, 'manifest.webmanifest'), '{"name":"Chatalot"}');
  writeFileSync(path.join(dir, 'service-worker.js'), WORKER);
  writeFileSync(path.join(dir, '_app', 'immutable', 'entry.js'), ASSET);
  writeFileSync(path.join(dir, '_app', 'immutable', 'entry.js.br'), brotliCompressSync(ASSET));
  return dir;
}

describe('serving the web app', () => {
  let t: TestDatabase;
  let app: FastifyInstance;

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    const config = testConfig({ CHATALOT_WEB_DIR: fixtureBuild() });
    const secrets = loadOrCreateSecrets(config);
    app = await buildApp({ config, database: t.database, broker: new MemoryBroker(), secrets, version: '1' });
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
  });

  it('serves the shell at / without long-lived caching', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toBe(SHELL);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('falls back to the shell for client-side routes', async () => {
    for (const url of ['/login', '/c/abc/channels/42', '/invite/ABCDEFGHJKLM?x=1']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toBe(SHELL);
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('allows exactly the shell’s inline script through the CSP', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    const hash = createHash('sha256').update(BOOT).digest('base64');
    expect(inlineScriptHashes(SHELL)).toEqual([`sha256-${hash}`]);
    expect(String(res.headers['content-security-policy'])).toContain(`'sha256-${hash}'`);
  });

  it('caches hashed assets for a year and serves the pre-compressed copy', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/_app/immutable/entry.js',
      headers: { 'accept-encoding': 'br' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers['content-encoding']).toBe('br');
    const plain = await app.inject({
      method: 'GET',
      url: '/_app/immutable/entry.js',
      headers: { 'accept-encoding': 'identity' },
    });
    expect(plain.body).toBe(ASSET);
  });

  it('serves the service worker as JavaScript that is revalidated on every update check', async () => {
    const res = await app.inject({ method: 'GET', url: '/service-worker.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^(text|application)\/javascript/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toBe(WORKER);
  });

  it('serves the web app manifest with its own content type', async () => {
    const res = await app.inject({ method: 'GET', url: '/manifest.webmanifest' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/manifest\+json/);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('lets the page register its service worker and load its manifest (CSP)', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    const directives = String(res.headers['content-security-policy'])
      .split(';')
      .map((d) => d.trim());
    expect(directives).toContain("manifest-src 'self'");
    const workerSrc = directives.find((d) => d.startsWith('worker-src')) ?? '';
    expect(workerSrc.split(' ')).toContain("'self'");
  });

  it('compresses JSON API responses above the threshold', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/openapi.json', headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers['content-encoding']).toBe('gzip');
  });

  it('never answers a missing file, an unknown API path or the socket path with the shell', async () => {
    for (const url of ['/missing.png', '/_app/immutable/gone.js', '/api/unknown']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    // The socket path without an upgrade says how to use it.
    const ws = await app.inject({ method: 'GET', url: '/ws' });
    expect(ws.statusCode).toBe(426);
    expect(ws.json().error.code).toBe('upgrade_required');
  });
});

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, installErrorHandling } from '../errors.js';
import { ApiDocs } from '../http/api-docs.js';
import { type ProcessedImage, processImage } from './image-pipeline.js';
import { PublicAssetStore, isAssetId, registerPublicAssetRoutes } from './public-assets.js';

async function sampleImage(colour = '#cc3366'): Promise<ProcessedImage> {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: colour } })
    .png()
    .toBuffer();
  return processImage(png, 'avatar');
}

describe('PublicAssetStore', () => {
  let dir: string;
  let store: PublicAssetStore;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'chatalot-assets-'));
    store = new PublicAssetStore(path.join(dir, 'public'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('saves content-addressed, atomically, and deduplicates', async () => {
    const image = await sampleImage();
    const id = await store.save(image);
    expect(id).toBe(`${createHash('sha256').update(image.data).digest('hex')}.webp`);
    expect(isAssetId(id)).toBe(true);
    expect(existsSync(store.path(id))).toBe(true);
    expect(await store.save(image)).toBe(id);
    // No temporary files left behind.
    expect(readdirSync(store.dir).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    expect(readdirSync(store.dir)).toEqual([id]);
  });

  it('uses the extension of the type', async () => {
    const id = await store.save({ data: Buffer.from('gif-bytes'), mime: 'image/gif', width: 1, height: 1 });
    expect(id.endsWith('.gif')).toBe(true);
    await store.delete(id);
    expect(existsSync(store.path(id))).toBe(false);
  });

  it('deletes, and ignores unknown or malformed ids', async () => {
    const id = await store.save(await sampleImage('#00aa00'));
    await store.delete(id);
    expect(existsSync(path.join(store.dir, id))).toBe(false);
    await store.delete(id); // already gone
    await store.delete('../../etc/passwd');
    await store.delete(`${'a'.repeat(64)}.webp`);
  });

  it('refuses malformed ids before touching the file system', () => {
    for (const bad of [
      '../../etc/passwd',
      `${'a'.repeat(64)}.svg`,
      `${'a'.repeat(64)}.html`,
      `${'A'.repeat(64)}.webp`,
      `${'a'.repeat(63)}.webp`,
      `${'a'.repeat(64)}.webp/`,
      `${'a'.repeat(64)}.webp\n`,
      `../${'a'.repeat(61)}.webp`,
      '',
    ]) {
      expect(isAssetId(bad), JSON.stringify(bad)).toBe(false);
      expect(() => store.path(bad)).toThrow(AppError);
    }
  });
});

describe('GET /api/assets/:id', () => {
  let dir: string;
  let store: PublicAssetStore;
  let app: FastifyInstance;
  let docs: ApiDocs;
  let image: ProcessedImage;
  let id: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'chatalot-assets-'));
    store = new PublicAssetStore(path.join(dir, 'public'));
    // A file outside the store that traversal attempts would aim at.
    writeFileSync(path.join(dir, 'secret.webp'), 'top secret');
    app = Fastify();
    installErrorHandling(app);
    docs = new ApiDocs();
    registerPublicAssetRoutes({ app, docs }, store);
    await app.ready();
    image = await sampleImage();
    id = await store.save(image);
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the bytes with safe, immutable caching headers', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/assets/${id}` });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(image.data)).toBe(true);
    expect(res.headers['content-type']).toBe('image/webp');
    expect(res.headers['content-length']).toBe(String(image.data.length));
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-disposition']).toBe('inline');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; sandbox");
    expect(res.headers.etag).toBe(`"${id.slice(0, 64)}"`);
  });

  it('answers a matching If-None-Match with 304', async () => {
    const res = await app.inject({
      method: 'GET',
      url: `/api/assets/${id}`,
      headers: { 'if-none-match': `"${id.slice(0, 64)}"` },
    });
    expect(res.statusCode).toBe(304);
    expect(res.body).toBe('');
  });

  it('answers HEAD without a body', async () => {
    const res = await app.inject({ method: 'HEAD', url: `/api/assets/${id}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/webp');
    expect(res.body).toBe('');
  });

  it('gives the JSON 404 for unknown and malformed ids, including traversal attempts', async () => {
    const urls = [
      `/api/assets/${'b'.repeat(64)}.webp`,
      `/api/assets/${id.slice(0, 64)}.png`,
      `/api/assets/${id.slice(0, 64)}.svg`,
      `/api/assets/${id.slice(0, 64)}`,
      `/api/assets/${id.toUpperCase()}`,
      '/api/assets/..%2F..%2Fetc%2Fpasswd',
      '/api/assets/..%2Fsecret.webp',
      '/api/assets/%2E%2E%2Fsecret.webp',
      '/api/assets/..%5Csecret.webp',
      `/api/assets/${id}%00.html`,
    ];
    for (const url of urls) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toBe('not_found');
      expect(res.body).not.toContain('top secret');
    }
    // A malformed percent-encoding is refused by Fastify's router itself (400), before this route.
    expect((await app.inject({ method: 'GET', url: '/api/assets/%' })).statusCode).toBe(400);
    const plain = await app.inject({ method: 'GET', url: '/api/assets/..%2F..%2Fetc%2Fpasswd' });
    expect(plain.statusCode).toBe(404);
    expect(plain.json()).toEqual({ error: { code: 'not_found', message: 'No such asset' } });
  });

  it('is listed in the API document', () => {
    const doc = docs.document({ version: 'test' }) as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/api/assets/{id}']?.get).toBeDefined();
  });
});

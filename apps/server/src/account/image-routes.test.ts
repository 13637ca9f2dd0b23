import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';

/** A JPEG that carries GPS coordinates and a camera serial in its EXIF. */
function jpegWithGps(): Promise<Buffer> {
  return sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .withExif({
      IFD0: { Make: 'TestCam', Model: 'SERIAL-12345' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 2957/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 21/1 301/100',
      },
    })
    .jpeg()
    .toBuffer();
}

describe.each(DIALECTS)('avatar and banner uploads on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let auth: { authorization: string };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    app = t.app;
    const res = await app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { username: 'pia', password: 'a long passphrase' },
    });
    auth = { authorization: `Bearer ${res.json().access_token}` };
  });
  afterAll(() => t.close());

  it('strips EXIF and GPS from an uploaded avatar and serves it as a square WebP', async () => {
    const original = await jpegWithGps();
    expect((await sharp(original).metadata()).exif).toBeDefined();
    const res = await app.inject({
      method: 'PUT',
      url: '/api/account/avatar',
      headers: { ...auth, 'content-type': 'image/jpeg' },
      payload: original,
    });
    expect(res.statusCode).toBe(200);
    const url = res.json().avatar_url as string;
    expect(url).toMatch(/^\/api\/assets\/[0-9a-f]{64}\.webp$/);

    const served = await app.inject({ method: 'GET', url });
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toBe('image/webp');
    expect(served.headers['x-content-type-options']).toBe('nosniff');
    const meta = await sharp(served.rawPayload).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 512, 512]);
    expect(meta.exif).toBeUndefined();
    expect(served.rawPayload.includes(Buffer.from('SERIAL-12345'))).toBe(false);
  });

  it('refuses a file that is not an image whatever its Content-Type says', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: '/api/account/avatar',
      headers: { ...auth, 'content-type': 'image/png' },
      payload: Buffer.from('<html><script>alert(1)</script></html>'),
    });
    expect([res.statusCode, res.json().error.code]).toEqual([415, 'unsupported_image']);
  });

  it('refuses uploads without a session, and removes the banner on request', async () => {
    const png = await sharp({ create: { width: 2400, height: 900, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    const anonymous = await app.inject({
      method: 'PUT',
      url: '/api/account/banner',
      headers: { 'content-type': 'image/png' },
      payload: png,
    });
    expect(anonymous.statusCode).toBe(401);
    const up = await app.inject({
      method: 'PUT',
      url: '/api/account/banner',
      headers: { ...auth, 'content-type': 'image/png' },
      payload: png,
    });
    expect(up.statusCode).toBe(200);
    const banner = up.json().banner_url as string;
    const meta = await sharp((await app.inject({ method: 'GET', url: banner })).rawPayload).metadata();
    expect([meta.width, meta.height]).toEqual([1920, 720]);
    const removed = await app.inject({ method: 'DELETE', url: '/api/account/banner', headers: auth });
    expect(removed.json().banner_url).toBeNull();
    expect((await app.inject({ method: 'GET', url: banner })).statusCode).toBe(404);
  });

  it('does not accept image bodies on JSON routes', async () => {
    const res = await app.inject({
      method: 'PATCH',
      url: '/api/account/profile',
      headers: { ...auth, 'content-type': 'image/png' },
      payload: Buffer.from([1, 2, 3]),
    });
    expect([res.statusCode, res.json().error.code]).toEqual([415, 'unsupported_media_type']);
  });
});

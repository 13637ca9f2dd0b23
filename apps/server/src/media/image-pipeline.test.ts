import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { MAX_FRAMES, type ImageKind, processImage } from './image-pipeline.js';

async function solid(width: number, height: number, format: 'png' | 'jpeg' | 'webp' = 'png'): Promise<Buffer> {
  const img = sharp({ create: { width, height, channels: 3, background: '#3366cc' } });
  return (format === 'png' ? img.png() : format === 'jpeg' ? img.jpeg() : img.webp()).toBuffer();
}

/** Random pixels: incompressible, so the encoded file is large. */
async function noise(width: number, height: number, format: 'png' | 'jpeg'): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(Math.random() * 256);
  const img = sharp(raw, { raw: { width, height, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 95 }).toBuffer();
}

async function animatedGif(frames: number, width = 40, height = 20): Promise<Buffer> {
  const colours = ['#ff0000', '#00ff00', '#0000ff'];
  const pngs = await Promise.all(
    Array.from({ length: frames }, (_, i) =>
      sharp({ create: { width, height, channels: 4, background: colours[i % colours.length]! } })
        .png()
        .toBuffer(),
    ),
  );
  return sharp(pngs, { join: { animated: true } })
    .gif({ delay: 100, loop: 0 })
    .toBuffer();
}

/** A real 1×1 PNG whose IHDR is patched to declare `width`×`height` (with a valid CRC). */
async function pngBomb(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await solid(1, 1, 'png'));
  // Signature (8) + IHDR length (4) + "IHDR" (4) → width at 16, height at 20, CRC at 29.
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

async function expectAppError(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
}

/** Colour of the pixel at (x, y) of an encoded image, as [r, g, b]. */
async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [data[at]!, data[at + 1]!, data[at + 2]!];
}

describe('processImage', () => {
  it('strips EXIF (including GPS) and crops an avatar to a 512×512 WebP', async () => {
    const input = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#884422' } })
      .jpeg()
      .withExif({
        IFD0: { Copyright: 'Someone', Make: 'PhoneCo', Model: 'Secret Serial 1234' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '51/1 30/1 2645/100',
          GPSLongitudeRef: 'W',
          GPSLongitude: '0/1 7/1 3960/100',
        },
      })
      .toBuffer();
    const before = await sharp(input).metadata();
    expect(before.exif).toBeDefined();
    // The GPS IFD pointer (tag 0x8825, little-endian TIFF as libexif writes it) is in the input.
    expect(before.exif!.subarray(6, 8).toString('latin1')).toBe('II');
    expect(before.exif!.includes(Buffer.from([0x25, 0x88]))).toBe(true);
    expect(input.includes(Buffer.from('Secret Serial 1234'))).toBe(true);

    const out = await processImage(input, 'avatar');
    expect(out.mime).toBe('image/webp');
    expect([out.width, out.height]).toEqual([512, 512]);
    const after = await sharp(out.data).metadata();
    expect(after.format).toBe('webp');
    expect([after.width, after.height]).toEqual([512, 512]);
    expect(after.exif).toBeUndefined();
    expect(after.xmp).toBeUndefined();
    expect(after.iptc).toBeUndefined();
    expect(after.icc).toBeUndefined();
    expect(out.data.includes(Buffer.from('Secret Serial 1234'))).toBe(false);
    expect(out.data.includes(Buffer.from('Exif'))).toBe(false);
  });

  it('honours EXIF orientation before resizing', async () => {
    // Stored 200×100: left half red, right half blue; orientation 6 = rotate 90° clockwise to display,
    // so the upright picture is 100×200 with red on top.
    const left = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const input = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#0000ff' } })
      .composite([{ input: left, left: 0, top: 0 }])
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(input).metadata()).orientation).toBe(6);

    const out = await processImage(input, 'banner');
    expect([out.width, out.height]).toEqual([100, 200]);
    const after = await sharp(out.data).metadata();
    expect(after.orientation).toBeUndefined();
    const top = await pixel(out.data, 50, 20);
    const bottom = await pixel(out.data, 50, 180);
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(60);
    expect(bottom[2]).toBeGreaterThan(200);
    expect(bottom[0]).toBeLessThan(60);
  });

  it('refuses a PNG decompression bomb from its header alone, quickly', async () => {
    const bomb = await pngBomb(50_000, 50_000);
    expect((await sharp(bomb, { limitInputPixels: false }).metadata()).width).toBe(50_000);
    const started = Date.now();
    for (const kind of ['avatar', 'banner', 'icon', 'emoji'] as ImageKind[]) {
      await expectAppError(processImage(bomb, kind), 'image_too_large');
    }
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses an image just over the pixel budget', async () => {
    await expectAppError(processImage(await pngBomb(8000, 5001), 'banner'), 'image_too_large');
  });

  it('refuses text or HTML whatever the file is called', async () => {
    const html = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>');
    await expectAppError(processImage(html, 'avatar'), 'unsupported_image');
    await expectAppError(processImage(Buffer.from('just some text'), 'emoji'), 'unsupported_image');
    await expectAppError(processImage(new Uint8Array(0), 'avatar'), 'unsupported_image');
  });

  it('refuses SVG', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>',
    );
    // sharp itself could render it; the pipeline must not.
    expect((await sharp(svg).metadata()).format).toBe('svg');
    for (const kind of ['avatar', 'banner', 'icon', 'emoji'] as ImageKind[]) {
      await expectAppError(processImage(svg, kind), 'unsupported_image');
    }
  });

  it('refuses a truncated JPEG', async () => {
    const jpeg = await noise(256, 256, 'jpeg');
    await expectAppError(processImage(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), 'avatar'), 'unsupported_image');
    // Header only.
    await expectAppError(processImage(jpeg.subarray(0, 40), 'avatar'), 'unsupported_image');
  });

  it('refuses a corrupt PNG body', async () => {
    const png = Buffer.from(await noise(64, 64, 'png'));
    const idat = png.indexOf('IDAT');
    for (let i = idat + 20; i < idat + 200; i++) png[i] = 0xff;
    await expectAppError(processImage(png, 'avatar'), 'unsupported_image');
  });

  it('keeps an animated GIF avatar animated (as animated WebP)', async () => {
    const gif = await animatedGif(3);
    const out = await processImage(gif, 'avatar');
    expect(out.mime).toBe('image/webp');
    expect([out.width, out.height]).toEqual([512, 512]);
    const after = await sharp(out.data).metadata();
    expect(after.format).toBe('webp');
    expect(after.pages).toBe(3);
    expect([after.width, after.height]).toEqual([512, 512]);
  });

  it('keeps animated emoji animated, fitted inside 128×128', async () => {
    const out = await processImage(await animatedGif(3, 300, 150), 'emoji');
    expect([out.width, out.height]).toEqual([128, 64]);
    expect((await sharp(out.data).metadata()).pages).toBe(3);
  });

  it('uses the first frame of an animated GIF for banners and icons', async () => {
    const gif = await animatedGif(3);
    for (const kind of ['banner', 'icon'] as ImageKind[]) {
      const out = await processImage(gif, kind);
      const after = await sharp(out.data).metadata();
      expect(after.pages ?? 1).toBe(1);
    }
  });

  it('refuses an animation with too many frames', async () => {
    await expectAppError(processImage(await animatedGif(MAX_FRAMES + 1, 4, 4), 'avatar'), 'image_too_large');
  });

  it('refuses an emoji over 256 KB and a JPEG emoji', async () => {
    const big = await noise(400, 400, 'png');
    expect(big.length).toBeGreaterThan(256 * 1024);
    await expectAppError(processImage(big, 'emoji'), 'image_too_large');
    await expectAppError(processImage(await solid(32, 32, 'jpeg'), 'emoji'), 'unsupported_image');
  });

  it('refuses avatars over 10 MB before looking at them', async () => {
    await expectAppError(processImage(new Uint8Array(10 * 1024 * 1024 + 1), 'avatar'), 'image_too_large');
  });

  it('sizes each kind', async () => {
    const wide = await solid(3000, 1000, 'jpeg');
    const banner = await processImage(wide, 'banner');
    expect([banner.width, banner.height]).toEqual([1920, 640]);
    const icon = await processImage(wide, 'icon');
    expect([icon.width, icon.height]).toEqual([512, 512]);
    const small = await processImage(await solid(100, 50, 'webp'), 'banner');
    expect([small.width, small.height]).toEqual([100, 50]); // no enlargement
    const emoji = await processImage(await solid(300, 150, 'png'), 'emoji');
    expect([emoji.width, emoji.height]).toEqual([128, 64]);
    const tinyAvatar = await processImage(await solid(20, 10, 'png'), 'avatar');
    expect([tinyAvatar.width, tinyAvatar.height]).toEqual([512, 512]);
  });

  it('drops bytes appended after the image (polyglots)', async () => {
    const png = Buffer.concat([await solid(16, 16, 'png'), Buffer.from('<script>alert(1)</script>')]);
    const out = await processImage(png, 'avatar');
    expect(out.data.includes(Buffer.from('<script>'))).toBe(false);
  });
});

// Renders the PWA icons in static/ from the logo in static/favicon.svg (the same drawing as
// src/lib/components/Logo.svelte) with Debian's Chromium through playwright-core:
//
//   node apps/web/scripts/render-icons.mjs [path to Chromium, /usr/bin/chromium by default]
//
// icon-192/512.png keep the logo's rounded corners on a transparent background (purpose "any").
// icon-maskable-512.png and apple-touch-icon.png are full-bleed squares, since the platform cuts
// its own shape out of them; the mark already sits inside the maskable safe zone (the central
// circle of 80 % diameter), so it is not scaled. Run it after changing the logo and commit the PNGs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const STATIC = path.resolve(import.meta.dirname, '../static');
const logo = readFileSync(path.join(STATIC, 'favicon.svg'), 'utf8');

const ROUNDED = ' rx="116"';
if (!logo.includes(ROUNDED)) throw new Error(`favicon.svg changed: no background rect with${ROUNDED}`);
const fullBleed = logo.replace(ROUNDED, '');

const ICONS = [
  { file: 'icon-192.png', size: 192, svg: logo },
  { file: 'icon-512.png', size: 512, svg: logo },
  { file: 'icon-maskable-512.png', size: 512, svg: fullBleed },
  { file: 'apple-touch-icon.png', size: 180, svg: fullBleed },
];

const browser = await chromium.launch({
  executablePath: process.argv[2] || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  for (const { file, size, svg } of ICONS) {
    const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
    const sized = svg.replace('<svg ', `<svg width="${size}" height="${size}" `);
    await page.setContent(`<!doctype html><html><body style="margin:0;background:transparent">${sized}</body></html>`);
    await page.screenshot({
      path: path.join(STATIC, file),
      omitBackground: true,
      clip: { x: 0, y: 0, width: size, height: size },
    });
    await page.close();
    console.log(`wrote static/${file} (${size}×${size})`);
  }
} finally {
  await browser.close();
}

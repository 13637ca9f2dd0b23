import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, bundleForBrowser, launchChromium } from './browser.js';

describe.skipIf(!HAVE_CHROMIUM)('@chatalot/crypto in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('builds for the browser without Node built-ins and runs sessions, groups and files there', async () => {
    // platform 'browser' makes any node: import a build error, so the package stays portable.
    const bundle = await bundleForBrowser({
      entryPoints: [path.join(import.meta.dirname, 'fixtures/crypto-in-browser.ts')],
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.addScriptTag({ content: bundle });
    const result = await page.evaluate(() => (globalThis as { cryptoResult?: Promise<unknown> }).cryptoResult);
    expect(errors).toEqual([]);
    expect(result).toEqual({
      pairwise: 'hello from a browser',
      reply: 'hi back',
      group: 'to the group',
      tampered: 'bad_signature',
      safetyNumberDigits: 60,
      safetyNumberNumeric: true,
      fileRoundTrip: true,
      fileCiphertextDiffers: true,
    });
    await page.close();
  });
});

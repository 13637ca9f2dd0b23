// The SDK's encrypted IndexedDB key store (packages/client/src/e2e/indexeddb-kv.ts) in
// Chromium, under the real E2E layer: see fixtures/e2e-keystore-in-browser.ts.
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, bundleForBrowser, launchChromium } from './browser.js';

// localhost is a secure context (WebCrypto needs one); the page is served by request
// interception, so nothing listens there.
const ORIGIN = 'http://localhost:48917';

describe.skipIf(!HAVE_CHROMIUM)('the E2E key store in Chromium (IndexedDB + WebCrypto)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('keeps ratchet state in IndexedDB, encrypted under a non-extractable key, across a restart', async () => {
    const bundle = await bundleForBrowser({
      entryPoints: [path.join(import.meta.dirname, 'fixtures/e2e-keystore-in-browser.ts')],
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.route(`${ORIGIN}/**`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>keystore</title>' }),
    );
    await page.goto(`${ORIGIN}/`);
    await page.addScriptTag({ content: bundle });
    const result = await page.evaluate(() => (globalThis as { keystoreResult?: Promise<unknown> }).keystoreResult);
    expect(errors).toEqual([]);
    expect(result).toEqual({
      dm1: ['hello from IndexedDB'],
      channel1: ['channel in IndexedDB'],
      dm2: ['hello from IndexedDB', 'bob after restart'],
      channel2: ['channel in IndexedDB', 'second channel message'],
      storageKeyExtractable: false,
      storageKeyAlgorithm: 'AES-GCM',
      exportRefused: true,
      storedKeys: true,
      identityStoredLength: true,
      plaintextOnDisk: false,
      tamperCode: 'store_corrupt',
    });
    await page.close();
  });
});

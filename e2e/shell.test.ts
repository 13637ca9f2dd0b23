import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../apps/server/test/start-process.js';
import { HAVE_CHROMIUM, SCREENSHOT_DIR, launchChromium } from './browser.js';

describe.skipIf(!HAVE_CHROMIUM)('the web app in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer({ DATA_DIR: mkdtempSync(path.join(tmpdir(), 'chatalot-e2e-')) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const viewport of [
    { name: 'desktop', width: 1280, height: 800 },
    { name: 'mobile', width: 390, height: 844 },
  ]) {
    it(`renders the home screen with the instance state, without CSP violations (${viewport.name})`, async () => {
      const page = await browser.newPage({ viewport });
      const problems: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(msg.text());
      });
      page.on('pageerror', (err) => problems.push(err.message));
      await page.goto(server.url);
      await expect.poll(() => page.getByText(/0\.1\.0/).count(), { timeout: 15_000 }).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `home-${viewport.name}.png`), fullPage: true });
      expect(problems).toEqual([]);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await page.close();
    });
  }

  it('renders a client-side route served through the fallback as the not-found screen', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    const response = await page.goto(new URL('/no/such/page', server.url).toString());
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.getByRole('link', { name: /home/i }).count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'not-found-desktop.png') });
    expect(problems).toEqual([]);
    await page.close();
  });
});

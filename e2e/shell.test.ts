import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../apps/server/test/start-process.js';
import { BOTH, DESKTOP, HAVE_CHROMIUM, POLL, SCREENSHOT_DIR, shoot, watchProblems } from './browser.js';
import { closeStage, openStage } from './stage.js';

describe.skipIf(!HAVE_CHROMIUM)('the web app in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    ({ server, browser } = await openStage('shell', {}));
  });
  afterAll(() => closeStage({ server, browser }));

  for (const [name, viewport] of Object.entries(BOTH)) {
    it(`renders the home screen with the instance state, without CSP violations (${name})`, async () => {
      const page = await browser.newPage({ viewport });
      // Every console error counts here, failed loads included.
      const problems = watchProblems(page, { failedLoads: true });
      await page.goto(server.url);
      await expect.poll(() => page.getByText(/0\.1\.0/).count(), POLL).toBeGreaterThan(0);
      await shoot(page, 'home', { [name]: viewport }, { fullPage: true });
      expect(problems).toEqual([]);
      await page.close();
    });
  }

  it('renders a client-side route served through the fallback as the not-found screen', async () => {
    const page = await browser.newPage({ viewport: DESKTOP });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    const response = await page.goto(new URL('/no/such/page', server.url).toString());
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.getByRole('link', { name: /home/i }).count(), POLL).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'not-found-desktop.png') });
    expect(problems).toEqual([]);
    await page.close();
  });
});

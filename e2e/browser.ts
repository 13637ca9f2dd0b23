import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (never a downloaded browser); override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const required = process.env.CHATALOT_REQUIRE_SERVICES === '1';

if (!existsSync(CHROMIUM_PATH) && required) {
  throw new Error(`Chromium is required (CHATALOT_REQUIRE_SERVICES=1) but ${CHROMIUM_PATH} does not exist`);
}
export const HAVE_CHROMIUM = existsSync(CHROMIUM_PATH);

/** Screenshots land here (git-ignored) so a person can look at them after a run. */
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '../test-results/screenshots');

/** Headless Chromium with the flags this closed network needs; Playwright gives it a fresh profile. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

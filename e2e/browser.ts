import { existsSync } from 'node:fs';
import path from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { expect } from 'vitest';

/**
 * Chromium for the browser tests: launching it, the screen sizes they look at, one person's
 * browser (a "seat") with the console errors seen there, and screenshots.
 */

/** Debian's Chromium (never a downloaded browser); override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const required = process.env.CHATALOT_REQUIRE_SERVICES === '1';

if (!existsSync(CHROMIUM_PATH) && required) {
  throw new Error(`Chromium is required (CHATALOT_REQUIRE_SERVICES=1) but ${CHROMIUM_PATH} does not exist`);
}
export const HAVE_CHROMIUM = existsSync(CHROMIUM_PATH);

/** Screenshots land here (git-ignored) so a person can look at them after a run. */
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '../test-results/screenshots');

export interface Size {
  width: number;
  height: number;
}
export const DESKTOP: Size = { width: 1280, height: 800 };
export const MOBILE: Size = { width: 390, height: 844 };
export const BOTH = { desktop: DESKTOP, mobile: MOBILE };

/** How long a test waits for something to show up (a real server and a real browser on a busy machine). */
export const POLL = { timeout: 20_000 };

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

/**
 * Bundles TypeScript for a page as one classic script. Platform 'browser' makes any node: import
 * a build error, so what runs there stays portable.
 */
export async function bundleForBrowser(input: Pick<BuildOptions, 'entryPoints' | 'stdin'>): Promise<string> {
  const bundle = await build({
    ...input,
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  });
  return bundle.outputFiles[0]!.text;
}

export interface WatchOptions {
  /** Also count the browser's own "Failed to load resource" notes (by default a non-2xx answer is fine). */
  failedLoads?: boolean;
  /** Further console errors that are expected (the network switched off on purpose, say). */
  ignore?: RegExp;
  /** Count a JavaScript dialog (alert, confirm) as a problem, and dismiss it. */
  dialogs?: boolean;
}

/** Collects the page's console errors and uncaught exceptions; a test expects the list to stay empty. */
export function watchProblems(
  page: Page,
  { failedLoads = false, ignore, dialogs = false }: WatchOptions = {},
): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (!failedLoads && msg.text().startsWith('Failed to load resource')) return;
    if (ignore?.test(msg.text())) return;
    problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  if (dialogs) {
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
  }
  return problems;
}

/** One person's browser: a context of its own (its own storage and keys), its page, the problems seen there. */
export interface Seat {
  context: BrowserContext;
  page: Page;
  problems: string[];
}

export interface SeatOptions extends WatchOptions {
  viewport?: Size;
  /** Lets the page read and write the clipboard on this origin (the server's URL). */
  clipboardFor?: string;
  acceptDownloads?: boolean;
}

/** Seats opened so far: each gets its own client address (see openSeat). */
let seats = 0;

/**
 * Opens one person's browser. Each seat's requests carry an `X-Forwarded-For` address of its
 * own (TEST-NET-2; the server trusts loopback as a proxy by default), as people on different
 * machines would: the per-IP rate limit (burst 50) is then per person, not shared by every
 * browser of the test and its API clients on 127.0.0.1.
 */
export async function openSeat(browser: Browser, options: SeatOptions = {}): Promise<Seat> {
  const { viewport = DESKTOP, clipboardFor, acceptDownloads, ...watch } = options;
  seats += 1;
  const address = `198.51.100.${(seats % 250) + 1}`;
  const context = await browser.newContext({
    viewport,
    extraHTTPHeaders: { 'X-Forwarded-For': address },
    ...(acceptDownloads === undefined ? {} : { acceptDownloads }),
  });
  if (clipboardFor) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: clipboardFor });
  const page = await context.newPage();
  return { context, page, problems: watchProblems(page, watch) };
}

export interface ShootOptions {
  /** Runs after each resize, before the screenshot (to scroll something into view, say). */
  prepare?: () => Promise<unknown>;
  /** Further checks at each size, after the screenshot. */
  check?: (size: Size, label: string) => Promise<void>;
  /** The whole scrollable page rather than the viewport. */
  fullPage?: boolean;
}

/**
 * Screenshots the page at each size (as `${name}-${label}.png`), checking that nothing scrolls
 * sideways, then gives the page back its size.
 */
export async function shoot(page: Page, name: string, sizes: Record<string, Size>, options: ShootOptions = {}) {
  const original = page.viewportSize() ?? DESKTOP;
  for (const [label, size] of Object.entries(sizes)) {
    await page.setViewportSize(size);
    await options.prepare?.();
    // Let layout settle (drawers, dialogs and popups adapt to the width).
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-${label}.png`), fullPage: options.fullPage });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} scrolls sideways at ${label} size`).toBeLessThanOrEqual(0);
    await options.check?.(size, label);
  }
  await page.setViewportSize(original);
}

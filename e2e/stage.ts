import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { type RunningServer, startServer } from '../apps/server/test/start-process.js';
import { SCREENSHOT_DIR, launchChromium } from './browser.js';

/** What a browser test plays on: the real server (real entry point, SQLite) and one Chromium. */
export interface Stage {
  server: RunningServer;
  browser: Browser;
  /** The server's data directory (its database, uploads and secrets), fresh for this test file. */
  dataDir: string;
}

/**
 * Starts the server on a new data directory (`chatalot-e2e-<name>-…` in the temp folder) with
 * `env` (open registration unless `env` says otherwise), then Chromium.
 */
export async function openStage(name: string, env: Record<string, string> = { REGISTRATION_MODE: 'open' }) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const dataDir = mkdtempSync(path.join(tmpdir(), `chatalot-e2e-${name}-`));
  const server = await startServer({ DATA_DIR: dataDir, ...env });
  try {
    return { server, browser: await launchChromium(), dataDir } satisfies Stage;
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** Closes the browser, then stops the server (either may be missing when starting failed). */
export async function closeStage({ server, browser }: Partial<Pick<Stage, 'server' | 'browser'>>) {
  await browser?.close();
  await server?.stop();
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from '../config.js';

/**
 * A valid configuration for tests: quiet logs, a private temporary DATA_DIR, an ephemeral
 * port, plus whatever variables the test sets.
 */
export function testConfig(env: Record<string, string> = {}): Config {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chatalot-data-'));
  // cwd = the data dir, so no developer `.env` in the repository leaks into tests.
  return loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dataDir, LISTEN_ADDR: '127.0.0.1:0', ...env }, dataDir);
}

// `npm test`: every suite this machine supports. Suites needing PostgreSQL (TEST_DATABASE_URL),
// Redis (TEST_REDIS_URL) or Chromium (/usr/bin/chromium or CHROMIUM_PATH) are skipped with a
// printed reason when those are missing; with CHATALOT_REQUIRE_SERVICES=1 (CI) a missing one
// fails the run instead. Extra arguments go to vitest (e.g. `npm test -- --project server`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureWebBuild } from './ensure-web-build.mjs';

const root = path.resolve(import.meta.dirname, '..');
const env = process.env;
const required = env.CHATALOT_REQUIRE_SERVICES === '1';
const chromium = env.CHROMIUM_PATH || '/usr/bin/chromium';

const services = [
  ['PostgreSQL', Boolean(env.TEST_DATABASE_URL), 'TEST_DATABASE_URL is not set: server suites run on SQLite only'],
  ['Redis', Boolean(env.TEST_REDIS_URL), 'TEST_REDIS_URL is not set: scale-out (Redis broker) suites are skipped'],
  ['Chromium', existsSync(chromium), `${chromium} not found: browser suites are skipped (apt-get install -y chromium)`],
];
const missing = services.filter(([, present]) => !present);
for (const [name, , why] of missing) process.stdout.write(`skip ${name}: ${why}\n`);
if (required && missing.length > 0) {
  process.stderr.write(`CHATALOT_REQUIRE_SERVICES=1 but missing: ${missing.map(([n]) => n).join(', ')}\n`);
  process.exit(1);
}

ensureWebBuild();

// A JSON report beside the usual output, so the run ends with one plain summary line.
const reportDir = mkdtempSync(path.join(tmpdir(), 'chatalot-test-'));
const report = path.join(reportDir, 'report.json');
const args = [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
];
const result = spawnSync('npx', args, { cwd: root, stdio: 'inherit', env });
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A suite that fails before its tests run (an import error, a failing hook) counts as a failure.
  const failed = r.numFailedTests + (r.numFailedTests === 0 && !r.success ? Math.max(1, r.numFailedTestSuites) : 0);
  process.stdout.write(`\nTests: ${r.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`);
}
rmSync(reportDir, { recursive: true, force: true });
process.exit(result.status ?? 1);

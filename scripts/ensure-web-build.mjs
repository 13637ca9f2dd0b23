// Builds the web app when its build is missing or older than any of its sources, so
// `npm start` and `npm test` work on a fresh clone without a separate build step.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const builtShell = path.join(root, 'apps/web/build/index.html');
const sources = [
  'apps/web/src',
  'apps/web/static',
  'apps/web/vite.config.ts',
  'apps/web/svelte.config.js',
  'apps/web/package.json',
  'packages/protocol/src',
  'packages/client/src',
  'packages/crypto/src',
].map((p) => path.join(root, p));

function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const stat = statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

/** True when apps/web/build is missing or stale. */
export function webBuildIsStale() {
  if (!existsSync(builtShell)) return true;
  const builtAt = statSync(builtShell).mtimeMs;
  return sources.some((s) => newestMtime(s) > builtAt);
}

export function ensureWebBuild() {
  if (!webBuildIsStale()) return;
  process.stdout.write('Building the web app (apps/web)…\n');
  execFileSync('npm', ['run', 'build', '--silent', '-w', '@chatalot/web'], { cwd: root, stdio: 'inherit' });
}

if (import.meta.url === `file://${process.argv[1]}`) ensureWebBuild();

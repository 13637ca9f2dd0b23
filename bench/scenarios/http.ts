// http: GET /api/health, closed loop, keep-alive, Chatalot (SQLite) against a bare node:http
// server answering the same body (bench/floor-http.ts). Requests come from 10,000 client
// addresses (X-Forwarded-For; both servers get the header) so the per-IP limit of 20 req/s
// is not what gets measured.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runLoad, type LoadResult } from '../load.js';
import { spawnNode } from '../lib/procs.js';
import { startChatalotProcess } from '../targets/chatalot.js';

export const HTTP_CONCURRENCY = [1, 32];
/**
 * Client addresses, each within the per-IP allowance (20 req/s, burst 50): 10,000 allow 200k
 * req/s, above what the health route reaches here (1,000 allowed 20k/s, and c32 was refused
 * with 429 once the load generator stopped being the limit).
 */
const CLIENTS = 10_000;

export type HttpResults = Record<'chatalot' | 'node-http-floor', Record<string, LoadResult>>;

async function measure(url: string, seconds: number): Promise<Record<string, LoadResult>> {
  await runLoad(`${url}/api/health`, 8, 1, { clients: CLIENTS }); // warm-up
  const out: Record<string, LoadResult> = {};
  for (const c of HTTP_CONCURRENCY) {
    out[`c${c}`] = await runLoad(`${url}/api/health`, c, seconds, { clients: CLIENTS });
  }
  return out;
}

export async function runHttp(seconds: number, cpus: string | undefined): Promise<HttpResults> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chatalot-bench-http-'));
  const results: Partial<HttpResults> = {};
  try {
    const server = await startChatalotProcess('chatalot-http', { DATA_DIR: dataDir }, cpus);
    try {
      results.chatalot = await measure(server.url, seconds);
    } finally {
      await server.proc.stop();
    }
    const floor = spawnNode('node-http-floor', ['--import', 'tsx', 'bench/floor-http.ts'], { env: {}, cpus });
    try {
      const [, url] = await floor.waitFor(/is running at (http:\/\/\S+)/, 60_000);
      results['node-http-floor'] = await measure(url!, seconds);
    } finally {
      await floor.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  for (const [name, byC] of Object.entries(results)) {
    for (const [c, r] of Object.entries(byC)) {
      const codes = r.errors > 0 ? ` ${JSON.stringify(r.errorCodes)}` : '';
      process.stdout.write(`  http ${name} ${c}: ${r.perSecond.toFixed(0)} req/s, ${r.errors} errors${codes}\n`);
    }
  }
  return results as HttpResults;
}

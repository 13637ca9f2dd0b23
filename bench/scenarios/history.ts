// history: a channel with 1M stored messages (written straight into the target's database,
// see lib/history-seed.ts), read in 50-message pages below a random `before` through
// GET /api/channels/:id/messages, closed loop at concurrency 1 and 8, against the same query
// run directly on the database (lib/history-direct.ts: the server's own query code without
// HTTP, sign-in and permission checks) on the same CPUs. Goal: p99 ≤ 5 ms at concurrency 8.
import { runLoad } from '../load.js';
import { childResult } from '../lib/child-result.js';
import { cpuSeconds } from '../lib/procs.js';
import { round } from '../lib/stats.js';
import type { RunningTarget } from '../targets/target.js';

export const HISTORY_PAGE = 50;
export const HISTORY_CONCURRENCY = [1, 8];
export const HISTORY_GOAL_P99_MS = 5;
const CLIENTS = 1000;
const WARMUP_SECONDS = 1;

export interface HistoryRun {
  concurrency: number;
  pages: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors?: number;
  serverCpuUsPerPage?: number | null;
}

export interface HistoryResult {
  messages: number;
  seedSeconds: number;
  server: HistoryRun[];
  direct: HistoryRun[];
}

export async function runHistory(
  target: RunningTarget,
  options: { messages: number; seconds: number; cpus: string | undefined },
): Promise<HistoryResult> {
  const server = target.server;
  if (!server) throw new Error('history needs a Chatalot target');
  process.stdout.write(`  history: seeding ${options.messages.toLocaleString('en')} messages\n`);
  const { channelId, reader, seedSeconds } = await server.seedHistory(options.messages);
  process.stdout.write(`  history: seeded in ${seedSeconds.toFixed(1)} s\n`);

  const randomBefore = () => HISTORY_PAGE + 1 + Math.floor(Math.random() * (options.messages - HISTORY_PAGE + 1));
  const pages = `${server.baseUrl}/api/channels/${channelId}/messages?limit=${HISTORY_PAGE}`;
  const url = () => `${pages}&before=${randomBefore()}`;
  const load = { headers: { authorization: `Bearer ${reader.token}` }, clients: CLIENTS };
  const runs: HistoryRun[] = [];
  for (const c of HISTORY_CONCURRENCY) {
    // Warm-up on the measured connections themselves: a fresh connection's first 50 kB
    // answers are slower (TCP buffers still growing), which alone was about 1% of a run's
    // pages, i.e. its whole p99.
    let cpu0 = 0;
    const r = await runLoad(url, c, options.seconds, {
      ...load,
      warmupSeconds: WARMUP_SECONDS,
      onMeasuring: () => (cpu0 = cpuSeconds(target.pids)),
    });
    const cpu = cpuSeconds(target.pids) - cpu0;
    runs.push({
      concurrency: c,
      pages: r.requests,
      perSecond: round(r.perSecond, 0)!,
      p50Ms: round(r.p50Ms, 2)!,
      p99Ms: round(r.p99Ms, 2)!,
      errors: r.errors,
      serverCpuUsPerPage: r.requests > 0 ? round((cpu * 1e6) / r.requests, 0) : null,
    });
    if (r.errors > 0) process.stdout.write(`  history c${c}: errors ${JSON.stringify(r.errorCodes)}\n`);
  }

  const direct = await childResult<HistoryRun[]>(
    'history-direct',
    'bench/lib/history-direct.ts',
    {
      database: server.database,
      channelId,
      count: options.messages,
      limit: HISTORY_PAGE,
      concurrency: HISTORY_CONCURRENCY,
      seconds: options.seconds,
    },
    options.cpus,
    60_000,
  );
  for (const [i, r] of runs.entries()) {
    const d = direct[i];
    process.stdout.write(
      `  history c${r.concurrency}: server ${r.perSecond} pages/s p50 ${r.p50Ms} / p99 ${r.p99Ms} ms; ` +
        `direct ${d?.perSecond.toFixed(0)} pages/s p50 ${d?.p50Ms.toFixed(2)} / p99 ${d?.p99Ms.toFixed(2)} ms\n`,
    );
  }
  return {
    messages: options.messages,
    seedSeconds: round(seedSeconds, 1)!,
    server: runs,
    direct: direct.map((d) => ({
      concurrency: d.concurrency,
      pages: d.pages,
      perSecond: round(d.perSecond, 0)!,
      p50Ms: round(d.p50Ms, 2)!,
      p99Ms: round(d.p99Ms, 2)!,
    })),
  };
}

// idle: authenticated sockets that only stay connected. Per level (e.g. 1k, 5k, 10k, added to
// the ones already open): connect rate (socket open + auth → ready), then after a hold the
// sockets still open and the server's RSS growth per connection over its RSS with only the
// warm-up sockets open.
import { cpuSeconds, rssBytes, sleep } from '../lib/procs.js';
import { pool, round } from '../lib/stats.js';
import type { BenchSocket, RunningTarget } from '../targets/target.js';

export interface IdleLevel {
  sockets: number;
  connected: number;
  failed: number;
  /** Sockets still open after the hold. */
  held: number;
  allHeld: boolean;
  connectSeconds: number;
  connectsPerSec: number | null;
  rssBaseMiB: number | null;
  rssMiB: number | null;
  kibPerConnection: number | null;
  /** RSS growth per connection since the previous level (less sensitive to heap slack at start). */
  marginalKibPerConnection: number | null;
  /** Server CPU milliseconds per connection (connect + auth + hold). */
  serverCpuMsPerConnection: number | null;
  firstError?: string;
}

export interface IdleOptions {
  levels: number[];
  holdSeconds: number;
  concurrency: number;
  /** Each level's connect phase stops starting new sockets after this long. */
  phaseSeconds: number;
}

export async function runIdle(target: RunningTarget, options: IdleOptions): Promise<IdleLevel[]> {
  const max = Math.max(...options.levels);
  // Warm-up sockets stay open: JIT, lazy modules and V8's young-generation growth are paid
  // before the baseline, and no freed memory from closed sockets is reused inside the
  // measurement. RSS per connection is the growth from there.
  const warmCount = Math.min(200, max);
  const accounts = await target.createLoners(max + warmCount);
  const sockets: BenchSocket[] = [];
  const warm: BenchSocket[] = [];
  const levels: IdleLevel[] = [];
  try {
    for (const r of await pool(accounts.slice(max), 20, (a) => target.connect(a))) {
      if (r.status === 'fulfilled') warm.push(r.value);
    }
    await sleep(1500);
    const base = rssBytes(target.pids);
    let previous = { rss: base, held: 0 };

    for (const level of options.levels) {
      const batch = accounts.slice(sockets.length, level);
      const cpu0 = cpuSeconds(target.pids);
      const t0 = performance.now();
      const results = await pool(
        batch,
        options.concurrency,
        (a) => target.connect(a),
        t0 + options.phaseSeconds * 1000,
      );
      const connectSeconds = (performance.now() - t0) / 1000;
      let failed = 0;
      let firstError: string | undefined;
      for (const r of results) {
        if (r?.status === 'fulfilled') sockets.push(r.value);
        else {
          failed++;
          firstError ??= String((r?.reason as Error | undefined)?.message ?? 'not started (phase time limit)');
        }
      }
      failed += batch.length - results.length;
      await sleep(options.holdSeconds * 1000);
      const cpu = cpuSeconds(target.pids) - cpu0;
      const rss = rssBytes(target.pids);
      const held = sockets.filter((s) => s.isOpen).length;
      levels.push({
        sockets: level,
        connected: sockets.length,
        failed,
        held,
        allHeld: held === level,
        connectSeconds: round(connectSeconds, 2)!,
        connectsPerSec: round((batch.length - failed) / connectSeconds, 0),
        rssBaseMiB: round(base / 2 ** 20),
        rssMiB: round(rss / 2 ** 20),
        kibPerConnection: round((rss - base) / 1024 / Math.max(1, held), 2),
        marginalKibPerConnection: round((rss - previous.rss) / 1024 / Math.max(1, held - previous.held), 2),
        serverCpuMsPerConnection: round((cpu * 1000) / Math.max(1, batch.length - failed), 3),
        ...(firstError ? { firstError } : {}),
      });
      previous = { rss, held };
      process.stdout.write(
        `  idle ${level}: ${held}/${level} held, ${levels.at(-1)!.connectsPerSec} connects/s, ` +
          `${levels.at(-1)!.kibPerConnection} KiB/conn\n`,
      );
      if (held < level) break;
    }
  } finally {
    for (const s of [...warm, ...sockets]) s.close();
  }
  return levels;
}

// The history scenario's floor, run as a child process on the server's CPUs:
//   node --import tsx bench/lib/history-direct.ts '<json>'
// with {"database": {kind, file|url}, "channelId", "count", "limit", "concurrency": [..], "seconds"}.
// Runs what GET /api/channels/:id/messages runs on the database (the server's own historyPage and
// withReactions over the server's own openDatabase: same SQL, driver, pool and statement cache)
// without HTTP, sign-in check, permission check or response validation: random pages below a
// random `before`, closed loop at each concurrency. Prints one line `result {json}`.
import { openDatabase } from '../../apps/server/src/db/database.js';
import { historyPage } from '../../apps/server/src/messages/queries.js';
import { withReactions } from '../../apps/server/src/messages/repo.js';
import type { DatabaseLocation } from '../targets/target.js';
import { percentile } from './stats.js';

interface Args {
  database: DatabaseLocation;
  channelId: string;
  count: number;
  limit: number;
  concurrency: number[];
  seconds: number;
}

export interface DirectRun {
  concurrency: number;
  pages: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const opened = openDatabase(
  args.database.kind === 'sqlite' ? { kind: 'sqlite', path: args.database.file } : args.database,
);

/** A random page: the `limit` messages below a `before` anywhere in the history. */
const randomBefore = () => args.limit + 1 + Math.floor(Math.random() * (args.count - args.limit + 1));

async function closedLoop(concurrency: number, seconds: number): Promise<DirectRun> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const query = { before: randomBefore(), limit: args.limit };
        const page = await historyPage(opened.db, args.channelId, query, Date.now());
        const messages = await withReactions(opened.db, page.rows);
        if (messages.length !== args.limit) throw new Error(`a page had ${messages.length} messages`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    concurrency,
    pages: latencies.length,
    perSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

try {
  const runs: DirectRun[] = [];
  for (const c of args.concurrency) {
    await closedLoop(c, 0.5); // warm-up: statements prepared, pool connections open
    runs.push(await closedLoop(c, args.seconds));
  }
  process.stdout.write(`result ${JSON.stringify(runs)}\n`);
} finally {
  await opened.close();
}

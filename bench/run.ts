// npm run bench [-- --quick]: measures Chatalot against the bare runtime on this machine, in
// one run, and writes a Markdown table and JSON under bench/results/. Ratios, not absolute
// numbers, are what compare across machines. Scenarios so far: `http` (GET /api/health,
// closed loop, keep-alive). The gateway scenarios (fan-out, idle sockets, history, login)
// join when those features exist.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { runLoad, type LoadResult } from './load.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const quick = process.argv.includes('--quick');
const SECONDS = quick ? 3 : 10;
const CONCURRENCY = [1, 32];

interface Target {
  name: string;
  command: string[];
  env: Record<string, string>;
}

const targets: Target[] = [
  {
    name: 'chatalot',
    command: ['scripts/start.mjs'],
    env: { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'chatalot-bench-')), LOG_LEVEL: 'warn' },
  },
  { name: 'node-http-floor', command: ['--import', 'tsx', 'bench/floor-http.ts'], env: {} },
];

/** Starts a target on 127.0.0.1 and a free port; resolves with its URL and a stop function. */
function start(target: Target): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, target.command, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LISTEN_ADDR: '127.0.0.1:0', ...target.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${target.name} did not start`)), 120_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /is running at (http:\/\/\S+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[1]!,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('exit', () => reject(new Error(`${target.name} exited before starting:\n${out}`)));
  });
}

async function main(): Promise<void> {
  const results: Record<string, Record<string, LoadResult>> = {};
  for (const target of targets) {
    const running = await start(target);
    try {
      await runLoad(`${running.url}/api/health`, 8, 1); // warm-up
      results[target.name] = {};
      for (const c of CONCURRENCY) {
        results[target.name]![`c${c}`] = await runLoad(`${running.url}/api/health`, c, SECONDS);
        process.stdout.write(`${target.name} c=${c}: ${results[target.name]![`c${c}`]!.perSecond.toFixed(0)} req/s\n`);
      }
    } finally {
      await running.stop();
    }
  }

  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const rows = CONCURRENCY.map((c) => {
    const a = results.chatalot![`c${c}`]!;
    const f = results['node-http-floor']![`c${c}`]!;
    return `| http GET /api/health | ${c} | ${a.perSecond.toFixed(0)} | ${a.p50Ms.toFixed(2)} / ${a.p99Ms.toFixed(2)} | ${f.perSecond.toFixed(0)} | ${f.p50Ms.toFixed(2)} / ${f.p99Ms.toFixed(2)} | ${(a.perSecond / f.perSecond).toFixed(2)} |`;
  });
  const table = [
    `Commit ${commit}, ${machine.cpus} × ${machine.cpu}, ${machine.memGiB} GiB, Node ${machine.node}, ${SECONDS} s per step. Load generator and servers share the machine.`,
    '',
    '| scenario | concurrency | chatalot req/s | chatalot p50 / p99 ms | floor req/s | floor p50 / p99 ms | chatalot / floor |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(
    path.join(ROOT, 'bench/results', `${stamp}.json`),
    JSON.stringify({ commit, machine, seconds: SECONDS, results }, null, 2),
  );
  writeFileSync(path.join(ROOT, 'bench/results', `${stamp}.md`), `${table}\n`);
  process.stdout.write(`\n${table}\n`);
}

await main();

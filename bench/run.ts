// npm run bench [-- --quick] [--scenarios=http,idle,fanout,channels,dm,presence,history,login]
//                [--targets=ws-floor,chatalot,…]
//                [--members=50,500] [--sockets=1000,5000] [--cpu-prof=DIR] [--note=TEXT] [--install-peers]
//
// Measures Chatalot against the bare runtime on this machine, in one run, and writes a Markdown
// table and JSON under bench/results/. Ratios, not absolute numbers, are what compare across
// machines. The load generator (this process) and the servers are pinned to different CPUs;
// every process started here is stopped in `finally`; everything stays on 127.0.0.1.
//
// Scenarios: `http` (GET /api/health: chatalot vs a bare node:http server), `idle`
// (authenticated sockets held: RSS per connection, connect rate), `fanout` (one channel, rate
// stepped up: highest sustained rate, p50/p99, server CPU per delivery), `channels` (200
// channels × 10 members, Poisson senders) and `dm` (500 DM pairs) with the same figures,
// `presence` (typing and presence events in one room of 50), `history` (50-message pages of a
// 1M-message channel against the same query run directly on the database) and `login` (Argon2id
// sign-ins through the route against raw verifies); the last two need a Chatalot target and
// read n/a for the others. Targets sit behind
// bench/targets/target.ts: ws-floor, chatalot (SQLite), chatalot-pg, chatalot-2proc, and the
// XMPP reference servers ejabberd and Prosody when installed (`--install-peers` installs them
// with apt-get first and disables the system services the packages bring).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { PINNING, pinSelf, ROOT, stopAll } from './lib/procs.js';
import { installPeers } from './lib/xmpp-install.js';
import { stopXmppProcesses } from './lib/xmpp-process.js';
import type { NoFigures, ScenarioOutcomes } from './lib/report-scenarios.js';
import { computeRatios, markdown, type Report, type TargetResult } from './report.js';
import { runChannels } from './scenarios/channels.js';
import { runDm } from './scenarios/dm.js';
import { type FanoutResult, runFanout } from './scenarios/fanout.js';
import { runHistory } from './scenarios/history.js';
import { runHttp } from './scenarios/http.js';
import { runIdle } from './scenarios/idle.js';
import { runLogin } from './scenarios/login.js';
import { runPresence } from './scenarios/presence.js';
import { chatalot, chatalot2proc, chatalotPg } from './targets/chatalot.js';
import type { Target } from './targets/target.js';
import { wsFloor } from './targets/ws-floor.js';
import { ejabberd, prosody } from './targets/xmpp.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const listArg = (name: string) =>
  args
    .find((a) => a.startsWith(`--${name}=`))
    ?.slice(name.length + 3)
    .split(',')
    .filter(Boolean);

const numbers = (name: string) => listArg(name)?.map(Number);

const PLAN = quick
  ? {
      httpSeconds: 2,
      idleLevels: [1000],
      holdSeconds: 1.5,
      fanoutMembers: [50],
      stepSeconds: 1.5,
      warmupSeconds: 1,
      drainMs: 700,
      firstRate: 50,
      // Quick runs use smaller sizes than the issue asks for (the output says which).
      channels: { channels: 50, members: 10 },
      dmPairs: 100,
      presenceMembers: 50,
      historyMessages: 100_000,
      measureSeconds: 2,
      // A login costs ~0.1 s of CPU: a couple of seconds would hold too few for a ratio.
      loginSeconds: 4,
      // No new fan-out step after this; the whole quick run stays within about two minutes.
      budgetSeconds: 110,
    }
  : {
      httpSeconds: 10,
      idleLevels: [1000, 5000, 10_000],
      holdSeconds: 5,
      fanoutMembers: [50, 500, 2000],
      stepSeconds: 4,
      warmupSeconds: 3,
      drainMs: 2000,
      firstRate: 20,
      channels: { channels: 200, members: 10 },
      dmPairs: 500,
      presenceMembers: 50,
      historyMessages: 1_000_000,
      measureSeconds: 10,
      loginSeconds: 10,
      // The bound for a full run is 15 minutes, teardown and report included.
      budgetSeconds: 14 * 60,
    };
/** `--cpu-prof=DIR`: the servers of the idle/fanout targets write CPU profiles there (see cpuprofile-summary.ts). */
const profileDir = listArg('cpu-prof')?.[0];
// --members=50,500 and --sockets=1000,5000 replace the plan's fan-out sizes and idle levels.
PLAN.fanoutMembers = numbers('members') ?? PLAN.fanoutMembers;
PLAN.idleLevels = numbers('sockets') ?? PLAN.idleLevels;
const ALL_SCENARIOS = ['http', 'idle', 'fanout', 'channels', 'dm', 'presence', 'history', 'login'];
const scenarios = new Set(listArg('scenarios') ?? ALL_SCENARIOS);
const unknown = [...scenarios].filter((s) => !ALL_SCENARIOS.includes(s));
if (unknown.length > 0) {
  throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${ALL_SCENARIOS.join(', ')}`);
}
/** Scenarios that run against every target (http has its own two servers). */
const TARGET_SCENARIOS = ALL_SCENARIOS.filter((s) => s !== 'http');
const ALL_TARGETS: Target[] = [wsFloor, chatalot, chatalotPg, chatalot2proc, ejabberd, prosody];
const wanted = listArg('targets');
const targets = wanted ? ALL_TARGETS.filter((t) => wanted.includes(t.name)) : ALL_TARGETS;

/** What the reader must know to read the figures; says so when the machine was busy with other work. */
function note(load: number[]): string {
  const n = cpus().length;
  const busy = Math.max(load[0] ?? 0, load[1] ?? 0) > n * 0.5;
  const extra = args.find((a) => a.startsWith('--note='))?.slice('--note='.length);
  return [
    busy
      ? `The machine was shared and busy (load average ${load.map((l) => l.toFixed(1)).join(' ')} on ${n} CPUs, ` +
        'e.g. other developers running test suites): absolute figures are noisy and only roughly repeatable.'
      : 'Absolute figures depend on this machine.',
    'Compare ratios within one run.',
    quick
      ? `Quick run: smaller sizes than a full run (channels ${PLAN.channels.channels} × ${PLAN.channels.members}, ` +
        `${PLAN.dmPairs} DM pairs, history of ${PLAN.historyMessages.toLocaleString('en')} messages instead of 1M) ` +
        'and short steps.'
      : undefined,
    extra,
    'Server CPU is the Chatalot (or floor) processes only (PostgreSQL backends listed separately, Redis not counted).',
    'Fan-out senders are spread so no socket sends over 10 msg/s (the gateway allowance): a channel of N members tops ' +
      'out at N × 10 msg/s for every target.',
  ]
    .filter(Boolean)
    .join(' ');
}

async function runTarget(target: Target, deadline: number): Promise<TargetResult> {
  const result: TargetResult = { name: target.name, description: target.description };
  const reason = await target.unavailable();
  if (reason) {
    result.skipped = reason;
    process.stdout.write(`${target.name}: skipped: ${reason}\n`);
    return result;
  }
  if (performance.now() > deadline) {
    result.skipped = 'the run’s time budget was used up';
    return result;
  }
  process.stdout.write(`${target.name}: starting\n`);
  const t0 = performance.now();
  const running = await target.start({
    cpus: PINNING.server,
    nodeFlags: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [],
  });
  result.startSeconds = Number(((performance.now() - t0) / 1000).toFixed(1));
  try {
    if (scenarios.has('idle')) {
      result.idle = await runIdle(running, {
        levels: PLAN.idleLevels,
        holdSeconds: PLAN.holdSeconds,
        concurrency: 50,
        phaseSeconds: 60,
      });
    }
    if (scenarios.has('fanout')) {
      result.fanout = [];
      for (const members of PLAN.fanoutMembers) {
        if (performance.now() > deadline) break;
        // A room where not even the lowest rate passed says the next, larger one would not
        // either, and seating it can take minutes (Prosody's joins cost N² presence).
        const smaller = result.fanout.at(-1);
        if (smaller && smaller.best === null) {
          result.fanout.push(skippedFanout(members, `skipped: ${smaller.members} members had no passing step`));
          continue;
        }
        result.fanout.push(
          await runFanout(running, {
            members,
            stepSeconds: PLAN.stepSeconds,
            warmupSeconds: PLAN.warmupSeconds,
            drainMs: PLAN.drainMs,
            firstRate: PLAN.firstRate,
            deadline,
          }).catch((err: unknown) => failedFanout(members, err)),
        );
      }
    }
    const ladder = {
      stepSeconds: PLAN.stepSeconds,
      warmupSeconds: PLAN.warmupSeconds,
      drainMs: PLAN.drainMs,
      firstRate: PLAN.firstRate,
      deadline,
    };
    // The scenarios with goals first (idle, fan-out above; history and login), so a tight time
    // budget cuts the ones without.
    const measure = { seconds: PLAN.measureSeconds, cpus: PINNING.server };
    if (running.server) {
      await scenario(result, 'history', deadline, () =>
        runHistory(running, { ...measure, messages: PLAN.historyMessages }),
      );
      await scenario(result, 'login', deadline, () => runLogin(running, { ...measure, seconds: PLAN.loginSeconds }));
    } else {
      for (const name of ['history', 'login'] as const) {
        if (scenarios.has(name)) result[name] = { notApplicable: `${target.name} has no database or sign-in` };
      }
    }
    // The time left is shared equally by the scenarios without goals, so each gets figures (in
    // a full run chatalot's presence used to be skipped, the dm ladder having used it all).
    const rest = [
      ['channels', (end: number) => runChannels(running, { ...ladder, deadline: end, ...PLAN.channels })],
      ['dm', (end: number) => runDm(running, { ...ladder, deadline: end, pairs: PLAN.dmPairs })],
      ['presence', (end: number) => runPresence(running, { ...ladder, deadline: end, members: PLAN.presenceMembers })],
    ] as const;
    const wanted = rest.filter(([name]) => scenarios.has(name));
    for (const [i, [name, run]] of wanted.entries()) {
      const end = performance.now() + Math.max(0, deadline - performance.now()) / (wanted.length - i);
      await scenario(result, name, deadline, () => run(end));
    }
  } catch (err) {
    result.error = (err as Error).message;
    process.stdout.write(`${target.name}: failed: ${result.error}\n`);
  } finally {
    await running.stop();
  }
  return result;
}

/** A fan-out size that could not run (e.g. its members could not connect): recorded, and the other sizes and scenarios still run. */
function failedFanout(members: number, err: unknown): FanoutResult {
  const message = err instanceof Error ? err.message : String(err);
  return skippedFanout(members, `failed: ${message}`);
}

/** A fan-out size with no steps, and why. */
function skippedFanout(members: number, stop: string): FanoutResult {
  process.stdout.write(`  fanout ${members}: ${stop}\n`);
  return { members, connectSeconds: 0, steps: [], best: null, atCeiling: false, stop };
}

/** A scenario's figures (what its run function resolves with). */
type Figures<K extends keyof ScenarioOutcomes> = Exclude<NonNullable<ScenarioOutcomes[K]>, NoFigures>;

/**
 * Runs one of the newer scenarios when it was asked for: a failure is recorded in its own cell
 * (the other scenarios still run), and one that would start after the budget is marked skipped.
 */
async function scenario<K extends keyof ScenarioOutcomes>(
  result: TargetResult,
  name: K,
  deadline: number,
  run: () => Promise<Figures<K>>,
): Promise<void> {
  if (!scenarios.has(name)) return;
  const outcomes: ScenarioOutcomes = result;
  if (performance.now() > deadline) {
    outcomes[name] = { skipped: 'the run’s time budget was used up' };
    return;
  }
  process.stdout.write(`${result.name}: ${name}\n`);
  try {
    outcomes[name] = await run();
  } catch (err) {
    outcomes[name] = { failed: (err as Error).message };
    process.stdout.write(`${result.name}: ${name} failed: ${(err as Error).message}\n`);
  }
}

async function main(): Promise<void> {
  // Before pinning: apt and dpkg should not share the generator's CPU budget.
  if (args.includes('--install-peers')) await installPeers();
  pinSelf();
  const started = performance.now();
  const deadline = started + PLAN.budgetSeconds * 1000;
  const loadStart = loadavg();
  const report: Partial<Report> = {};
  if (scenarios.has('http')) {
    process.stdout.write('http: chatalot vs node-http-floor\n');
    report.http = await runHttp(PLAN.httpSeconds, PINNING.server);
  }
  const results: TargetResult[] = [];
  if (TARGET_SCENARIOS.some((s) => scenarios.has(s))) {
    for (const [i, target] of targets.entries()) {
      // Each target gets an equal share of the time left, so the last ones are not squeezed out
      // (their ratios need them); a skipped target leaves its share to the ones after it.
      const share = Math.max(0, deadline - performance.now()) / (targets.length - i);
      results.push(await runTarget(target, performance.now() + share));
    }
  }

  const git = (...a: string[]) => execFileSync('git', a, { cwd: ROOT }).toString().trim();
  const full: Report = {
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommittedChanges: git('status', '--porcelain') !== '',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadavg: { start: loadStart, end: loadavg() },
    },
    run: quick ? 'quick' : 'full',
    elapsedSeconds: (performance.now() - started) / 1000,
    pinning: PINNING.note,
    note: note(loadStart),
    plan: { ...PLAN, scenarios: [...scenarios] },
    ...report,
    targets: results,
    ratios: computeRatios(results),
  };
  const table = markdown(full);
  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = full.date.replace(/[:.]/g, '-');
  writeFileSync(path.join(dir, `${stamp}.json`), `${JSON.stringify(full, null, 2)}\n`);
  writeFileSync(path.join(dir, `${stamp}.md`), `${table}\n`);
  process.stdout.write(`\n${table}\nWritten to bench/results/${stamp}.{json,md}\n`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all([stopAll(), stopXmppProcesses()]).finally(() => process.exit(130));
  });
}
try {
  await main();
} finally {
  await Promise.all([stopAll(), stopXmppProcesses()]);
}

// The run's results as JSON and a Markdown table (bench/results/<stamp>.{json,md}).
import type { LoadResult } from './load.js';
import { type LadderRatios, ladderRatios, type ScenarioOutcomes, scenarioSections } from './lib/report-scenarios.js';
import type { FanoutResult } from './scenarios/fanout.js';
import { HTTP_CONCURRENCY, type HttpResults } from './scenarios/http.js';
import type { IdleLevel } from './scenarios/idle.js';

export const FLOOR = 'ws-floor';

export interface TargetResult extends ScenarioOutcomes {
  name: string;
  description: string;
  skipped?: string;
  error?: string;
  startSeconds?: number;
  idle?: IdleLevel[];
  fanout?: FanoutResult[];
}

/** The real chat servers Chatalot is compared with besides the floor (bench/targets/xmpp.ts). */
export const REFERENCES = ['ejabberd', 'prosody'];

/** One target's fan-out and idle figures ÷ another's (the base). */
export interface BaseRatios {
  /** Per target, per members: best sustained rate ÷ the base's. */
  fanoutRate: Record<string, Record<string, number | null>>;
  /** Per target, per members: server CPU per delivery ÷ the base's at the same rate. */
  fanoutCpu: Record<string, Record<string, number | null>>;
  /** Per target, per socket count: RSS per connection ÷ the base's. */
  idleMemory: Record<string, Record<string, number | null>>;
}

/** Ratios to ws-floor, plus the same fan-out and idle ratios to each reference server that ran. */
export interface Ratios extends BaseRatios {
  /** channels, dm, typing, presence: per target, best rate and CPU per delivery ÷ ws-floor's. */
  ladders: LadderRatios;
  /** Per reference server (ejabberd, prosody): every other target's figures ÷ its own. */
  references: Record<string, BaseRatios>;
}

export interface Report {
  commit: string;
  uncommittedChanges: boolean;
  date: string;
  machine: { cpus: number; cpu: string; memGiB: number; node: string; loadavg: { start: number[]; end: number[] } };
  run: 'quick' | 'full';
  elapsedSeconds: number;
  pinning: string;
  note: string;
  plan: object;
  http?: HttpResults;
  targets: TargetResult[];
  ratios: Ratios;
}

const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a == null || b == null || b === 0 ? null : Number((a / b).toFixed(2));
const fmt = (n: number | null | undefined, digits = 1) => (n == null ? '–' : n.toFixed(digits));

export function computeRatios(targets: TargetResult[]): Ratios {
  const references: Record<string, BaseRatios> = {};
  for (const name of REFERENCES) {
    if (targets.some((t) => t.name === name && !t.skipped)) references[name] = ratiosTo(targets, name);
  }
  return { ...ratiosTo(targets, FLOOR), ladders: ladderRatios(targets, FLOOR), references };
}

/** Every other target's fan-out and idle figures ÷ those of the target named `baseName` (none when it did not run). */
function ratiosTo(targets: TargetResult[], baseName: string): BaseRatios {
  const base = targets.find((t) => t.name === baseName);
  const out: BaseRatios = { fanoutRate: {}, fanoutCpu: {}, idleMemory: {} };
  for (const t of targets) {
    if (t.name === baseName || !base) continue;
    out.fanoutRate[t.name] = {};
    out.fanoutCpu[t.name] = {};
    out.idleMemory[t.name] = {};
    for (const f of t.fanout ?? []) {
      const bf = base.fanout?.find((x) => x.members === f.members);
      out.fanoutRate[t.name]![f.members] = ratio(f.best?.rate, bf?.best?.rate);
      // CPU per delivery is compared at the same rate (the cost per delivery falls as batches grow).
      const same = f.best && bf?.steps.find((s) => s.rate === f.best!.rate && !s.discarded);
      out.fanoutCpu[t.name]![f.members] = ratio(
        f.best?.serverCpuUsPerDelivery,
        same ? same.serverCpuUsPerDelivery : bf?.best?.serverCpuUsPerDelivery,
      );
    }
    for (const level of t.idle ?? []) {
      const bl = base.idle?.find((x) => x.sockets === level.sockets);
      out.idleMemory[t.name]![level.sockets] = ratio(level.kibPerConnection, bl?.kibPerConnection);
    }
  }
  return out;
}

function httpTable(http: HttpResults): string[] {
  const cell = (r: LoadResult | undefined) =>
    r ? `${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)}` : '– | –';
  return [
    '### http: GET /api/health, closed loop, keep-alive, from 10,000 client addresses',
    '',
    '| concurrency | chatalot req/s | chatalot p50 / p99 ms | floor req/s | floor p50 / p99 ms | chatalot / floor |',
    '|---|---|---|---|---|---|',
    ...HTTP_CONCURRENCY.map((c) => {
      const a = http.chatalot?.[`c${c}`];
      const f = http['node-http-floor']?.[`c${c}`];
      return `| ${c} | ${cell(a)} | ${cell(f)} | ${fmt(ratio(a?.perSecond, f?.perSecond), 2)} |`;
    }),
  ];
}

function check(value: number | null | undefined, goal: (v: number) => boolean, suffix = ''): string {
  if (value == null) return '–';
  return `${value.toFixed(2)}${suffix} ${goal(value) ? '✓' : '✗'}`;
}

export function markdown(report: Report): string {
  const { machine, targets, ratios } = report;
  const ran = targets.filter((t) => !t.skipped);
  const floor = targets.find((t) => t.name === FLOOR);
  const lines: string[] = [
    `Commit ${report.commit}${report.uncommittedChanges ? ' + uncommitted changes' : ''}, ${machine.cpus} × ${machine.cpu}, ` +
      `${machine.memGiB} GiB, Node ${machine.node}, ${report.date}. ${report.run} run, ${report.elapsedSeconds.toFixed(0)} s. ` +
      `${report.pinning}; PostgreSQL and Redis unpinned. Load average ${machine.loadavg.start.map((l) => l.toFixed(2)).join(' ')} ` +
      `at the start, ${machine.loadavg.end.map((l) => l.toFixed(2)).join(' ')} at the end.`,
    '',
    `> ${report.note}`,
    '',
  ];
  const failed = ran.flatMap((t) => (t.fanout ?? []).flatMap((f) => f.steps.filter((s) => !s.ok && !s.discarded)));
  if (failed.length > 0) {
    const starved = failed.filter((s) => s.serverCpuWaitPct > 25).length;
    lines.push(
      `> ${failed.length} fan-out step(s) failed; in ${starved} of them the server's main thread spent over 25% of the ` +
        'step runnable but waiting for a CPU (/proc/<pid>/schedstat), i.e. other work on the machine held it back.',
      '',
    );
  }
  if (report.http) lines.push(...httpTable(report.http), '');

  // The goals are Chatalot's: the floor and the reference servers are what it is measured against.
  const chatalots = ran.filter((t) => t.name !== FLOOR && !REFERENCES.includes(t.name) && (t.fanout || t.idle));
  /** Reference servers that ran, with their ratios (columns after the floor's in the tables below). */
  const refs = Object.entries(ratios.references ?? {}).map(([name, r]) => ({ name, r }));
  const ejabberd = ratios.references?.ejabberd;
  if ((floor || ejabberd) && chatalots.length > 0) {
    const biggestIdle = (t: TargetResult) => t.idle?.at(-1)?.sockets;
    lines.push(
      `### Goals (from the benchmark issue), ratios to ws-floor${ejabberd ? ' and ejabberd' : ''}`,
      '',
      `| check | goal | ${chatalots.map((t) => t.name).join(' | ')} |`,
      `|---|---|${chatalots.map(() => '---|').join('')}`,
      `| fan-out 50: highest sustained rate ÷ ws-floor | ≥ 0.5 | ${chatalots.map((t) => check(ratios.fanoutRate[t.name]?.[50], (v) => v >= 0.5)).join(' | ')} |`,
      `| fan-out 50: server CPU per delivery ÷ ws-floor | ≤ 2 | ${chatalots.map((t) => check(ratios.fanoutCpu[t.name]?.[50], (v) => v <= 2)).join(' | ')} |`,
      ...(ejabberd
        ? [
            `| fan-out 50: highest sustained rate ÷ ejabberd | ≥ 1 | ${chatalots.map((t) => check(ejabberd.fanoutRate[t.name]?.[50], (v) => v >= 1)).join(' | ')} |`,
          ]
        : []),
      `| idle: RSS per authenticated connection ÷ ws-floor (largest level) | ≤ 1.5 | ${chatalots
        .map((t) => {
          const n = biggestIdle(t);
          if (n === undefined) return '–';
          // Below a few thousand sockets the RSS growth is mostly heap slack and GC timing.
          if (n < 5000) return `${fmt(ratios.idleMemory[t.name]?.[n], 2)} (${n}: too few for a stable RSS figure)`;
          return `${check(ratios.idleMemory[t.name]?.[n], (v) => v <= 1.5)} (${n})`;
        })
        .join(' | ')} |`,
      `| 10k sockets held | yes | ${chatalots
        .map((t) => {
          const level = t.idle?.find((l) => l.sockets === 10_000);
          return level ? (level.allHeld ? '✓' : `✗ ${level.held}`) : 'not run';
        })
        .join(' | ')} |`,
      '',
    );
    for (const base of [floor, ran.find((t) => t.name === 'ejabberd')]) {
      if (base?.fanout?.some((f) => f.atCeiling)) {
        lines.push(
          `_${base.name} sustained the ceiling (members × 10 msg/s, the per-socket allowance): its real limit is higher, so rate ratios against it are upper bounds._`,
          '',
        );
      }
    }
  }

  if (ran.some((t) => t.idle)) {
    lines.push(
      '### idle: authenticated sockets held',
      '',
      `| target | sockets | held | connects/s | server CPU ms / connect | RSS before → after MiB | KiB / connection | since previous level | ÷ ws-floor |${refs.map((x) => ` ÷ ${x.name} |`).join('')}`,
      `|---|---|---|---|---|---|---|---|---|${refs.map(() => '---|').join('')}`,
    );
    for (const t of ran) {
      for (const l of t.idle ?? []) {
        lines.push(
          `| ${t.name} | ${l.sockets} | ${l.held}${l.failed ? ` (${l.failed} failed)` : ''} | ${fmt(l.connectsPerSec, 0)} | ` +
            `${fmt(l.serverCpuMsPerConnection, 2)} | ${fmt(l.rssBaseMiB)} → ${fmt(l.rssMiB)} | ${fmt(l.kibPerConnection)} | ` +
            `${fmt(l.marginalKibPerConnection)} | ` +
            `${t.name === FLOOR ? '1' : fmt(ratios.idleMemory[t.name]?.[l.sockets], 2)} |` +
            refs.map((x) => ` ${t.name === x.name ? '1' : fmt(x.r.idleMemory[t.name]?.[l.sockets], 2)} |`).join(''),
        );
      }
    }
    lines.push('');
  }

  if (ran.some((t) => t.fanout)) {
    lines.push(
      '### fan-out: one channel, highest sustained rate (p99 ≤ 100 ms, ≥ 99.9% delivered)',
      '',
      '| target | members | msg/s | deliveries/s | p50 / p99 ms | ack p50 / p99 ms | server CPU µs / delivery | + PostgreSQL µs / delivery | generator CPU | stopped at next step because | rate ÷ floor | CPU ÷ floor |' +
        refs.map((x) => ` rate ÷ ${x.name} | CPU ÷ ${x.name} |`).join(''),
      `|---|---|---|---|---|---|---|---|---|---|---|---|${refs.map(() => '---|---|').join('')}`,
    );
    for (const t of ran) {
      for (const f of t.fanout ?? []) {
        const b = f.best;
        lines.push(
          `| ${t.name} | ${f.members} | ${b ? `${b.rate}${f.atCeiling ? ' (ceiling)' : ''}` : 'none'} | ${fmt(b?.deliveriesPerSec, 0)} | ` +
            `${fmt(b?.p50Ms, 1)} / ${fmt(b?.p99Ms, 1)} | ${fmt(b?.ackP50Ms, 1)} / ${fmt(b?.ackP99Ms, 1)} | ` +
            `${fmt(b?.serverCpuUsPerDelivery, 2)} | ${fmt(b?.auxCpuUsPerDelivery, 2)} | ${b ? `${b.generatorCpuPct}%` : '–'} | ` +
            `${f.atCeiling ? '–' : f.stop} | ${t.name === FLOOR ? '1' : fmt(ratios.fanoutRate[t.name]?.[f.members], 2)} | ` +
            `${t.name === FLOOR ? '1' : fmt(ratios.fanoutCpu[t.name]?.[f.members], 2)} |` +
            refs
              .map((x) =>
                t.name === x.name
                  ? ' 1 | 1 |'
                  : ` ${fmt(x.r.fanoutRate[t.name]?.[f.members], 2)} | ${fmt(x.r.fanoutCpu[t.name]?.[f.members], 2)} |`,
              )
              .join(''),
        );
      }
    }
    lines.push(
      '',
      '<details><summary>every fan-out step</summary>',
      '',
      '| target | members | rate msg/s | try | senders | sent/s | delivered % | p50 / p99 ms | server CPU % | server waited for CPU % | µs / delivery | generator CPU % | errors | result |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const t of ran) {
      for (const f of t.fanout ?? []) {
        for (const s of f.steps) {
          const errors = Object.entries(s.errors)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ');
          lines.push(
            `| ${t.name} | ${f.members} | ${s.rate} | ${s.attempt} | ${s.senders} | ${s.sentPerSec} | ${s.deliveredPct} | ${fmt(s.p50Ms, 1)} / ${fmt(s.p99Ms, 1)} | ` +
              `${s.serverCpuPct} | ${s.serverCpuWaitPct} | ${fmt(s.serverCpuUsPerDelivery, 2)} | ${s.generatorCpuPct} | ${errors || '–'} | ${s.reason} |`,
          );
        }
      }
    }
    lines.push('', '</details>', '');
  }

  lines.push(...scenarioSections(targets, FLOOR, report.run === 'quick'));

  const notes = targets.filter((t) => t.skipped || t.error);
  if (notes.length > 0) {
    lines.push('### Not measured', '');
    for (const t of notes) lines.push(`- ${t.name}: ${t.skipped ?? `failed: ${t.error}`}`);
    lines.push('');
  }
  lines.push(
    '### Targets',
    '',
    ...targets.filter((t) => !t.skipped).map((t) => `- **${t.name}**: ${t.description}`),
    '',
  );
  return lines.join('\n');
}

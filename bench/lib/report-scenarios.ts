// The Markdown and ratios of the channels, dm, presence, history and login scenarios (the
// rest of the report is in report.ts). A cell reads n/a where a target cannot run a scenario
// (ws-floor has no database and no sign-in), and says why where a scenario failed or was skipped.
import type { LadderResult, LadderStep } from './event-ladder.js';
import type { RoomsResult } from '../scenarios/channels.js';
import type { HistoryResult, HistoryRun } from '../scenarios/history.js';
import { HISTORY_GOAL_P99_MS, HISTORY_PAGE } from '../scenarios/history.js';
import type { LoginResult } from '../scenarios/login.js';
import { LOGIN_GOAL } from '../scenarios/login.js';
import type { PresenceResult } from '../scenarios/presence.js';

/** Why a scenario has no figures on a target. */
export type NoFigures = { skipped: string } | { failed: string } | { notApplicable: string };
export type Outcome<T> = T | NoFigures;

export interface ScenarioOutcomes {
  channels?: Outcome<RoomsResult>;
  dm?: Outcome<RoomsResult>;
  presence?: Outcome<PresenceResult>;
  history?: Outcome<HistoryResult>;
  login?: Outcome<LoginResult>;
}

interface Named extends ScenarioOutcomes {
  name: string;
  skipped?: string;
}

/** Per ladder (channels, dm, typing, presence), per target: best rate and CPU per delivery ÷ ws-floor's. */
export type LadderRatios = Record<string, Record<string, { rate: number | null; cpu: number | null }>>;

export function figures<T extends object>(o: Outcome<T> | undefined): T | undefined {
  if (!o || 'skipped' in o || 'failed' in o || 'notApplicable' in o) return undefined;
  return o as T;
}

function why(o: Outcome<object> | undefined): string {
  if (!o) return 'not run';
  if ('notApplicable' in o) return `n/a: ${o.notApplicable}`;
  if ('skipped' in o) return `skipped: ${o.skipped}`;
  if ('failed' in o) return `failed: ${o.failed}`;
  return '';
}

const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a == null || b == null || b === 0 ? null : Number((a / b).toFixed(2));
const fmt = (n: number | null | undefined, digits = 1) => (n == null ? '–' : n.toFixed(digits));

const LADDERS: { key: string; of: (t: Named) => LadderResult | undefined }[] = [
  { key: 'channels', of: (t) => figures(t.channels) },
  { key: 'dm', of: (t) => figures(t.dm) },
  { key: 'typing', of: (t) => figures(t.presence)?.typing },
  { key: 'presence', of: (t) => figures(t.presence)?.presence },
];

export function ladderRatios(targets: Named[], floorName: string): LadderRatios {
  const floor = targets.find((t) => t.name === floorName);
  const out: LadderRatios = {};
  for (const { key, of } of LADDERS) {
    out[key] = {};
    const f = floor && of(floor);
    for (const t of targets) {
      const l = of(t);
      if (t.name === floorName || !l || !f) continue;
      // CPU per delivery is compared at the same rate (the cost per delivery falls as batches grow).
      const same = l.best && f.steps.find((s) => s.rate === l.best!.rate && s.ok);
      out[key]![t.name] = {
        rate: ratio(l.best?.rate, f.best?.rate),
        cpu: ratio(l.best?.serverCpuUsPerDelivery, (same ?? f.best)?.serverCpuUsPerDelivery),
      };
    }
  }
  return out;
}

function ladderRow(
  name: string,
  size: string,
  l: LadderResult,
  ratios: { rate: number | null; cpu: number | null } | undefined,
  isFloor: boolean,
): string {
  const b: LadderStep | null = l.best;
  return (
    `| ${name} | ${size} | ${b ? `${b.rate}${l.atCeiling ? ' (ceiling)' : ''}` : 'none'} | ${fmt(b?.deliveriesPerSec, 0)} | ` +
    `${fmt(b?.p50Ms, 1)} / ${fmt(b?.p99Ms, 1)} | ${fmt(b?.serverCpuUsPerDelivery, 2)} | ${fmt(b?.auxCpuUsPerDelivery, 2)} | ` +
    `${b ? `${b.generatorCpuPct}%` : '–'} | ${l.atCeiling ? '–' : l.stop} | ${isFloor ? '1' : fmt(ratios?.rate, 2)} | ` +
    `${isFloor ? '1' : fmt(ratios?.cpu, 2)} |`
  );
}

/** When ws-floor reached the protocol's ceiling its real limit is higher: rate ratios against it are upper bounds. */
function ceilingNote(floor: Named | undefined, of: (t: Named) => LadderResult | undefined): string[] {
  const l = floor && of(floor);
  if (!l?.atCeiling) return [];
  return [
    `_ws-floor sustained the ceiling (${l.ceiling}/s, what the per-socket allowance lets these senders reach): its real limit is higher, so rate ratios against it are upper bounds._`,
    '',
  ];
}

const LADDER_HEADER = [
  '| target | size | events/s | deliveries/s | p50 / p99 ms | server CPU µs / delivery | + PostgreSQL µs / delivery | generator CPU | stopped at next step because | rate ÷ floor | CPU ÷ floor |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
];

function ladderSection(
  title: string,
  key: 'channels' | 'dm',
  targets: Named[],
  ratios: LadderRatios,
  floorName: string,
): string[] {
  const ran = targets.filter((t) => t[key] !== undefined);
  if (ran.length === 0) return [];
  const lines = [title, '', ...LADDER_HEADER];
  for (const t of ran) {
    const r = figures(t[key]);
    if (!r) lines.push(`| ${t.name} | ${why(t[key])} |`);
    else {
      const size = key === 'dm' ? `${r.rooms} pairs` : `${r.rooms} × ${r.membersPerRoom}`;
      lines.push(ladderRow(t.name, size, r, ratios[key]?.[t.name], t.name === floorName));
    }
  }
  return [
    ...lines,
    '',
    ...ceilingNote(
      targets.find((t) => t.name === floorName),
      (t) => figures(t[key]),
    ),
  ];
}

function presenceSection(targets: Named[], ratios: LadderRatios, floorName: string): string[] {
  const ran = targets.filter((t) => t.presence !== undefined);
  if (ran.length === 0) return [];
  const lines = [
    '### presence: one room; typing (at most one per user per 3 s, so members ÷ 3 per second at most), then presence.set, stepped up',
    '',
    ...LADDER_HEADER.map((l, i) => (i === 0 ? l.replace('| size |', '| events |') : l)),
  ];
  for (const t of ran) {
    const r = figures(t.presence);
    if (!r) {
      lines.push(`| ${t.name} | ${why(t.presence)} |`);
      continue;
    }
    const isFloor = t.name === floorName;
    lines.push(ladderRow(t.name, `typing, ${r.members} members`, r.typing, ratios.typing?.[t.name], isFloor));
    lines.push(ladderRow(t.name, `presence.set, ${r.members} members`, r.presence, ratios.presence?.[t.name], isFloor));
  }
  return [
    ...lines,
    '',
    ...ceilingNote(
      targets.find((t) => t.name === floorName),
      (t) => figures(t.presence)?.presence,
    ),
  ];
}

const runCell = (r: HistoryRun | undefined) =>
  r ? `${fmt(r.perSecond, 0)} | ${fmt(r.p50Ms, 2)} / ${fmt(r.p99Ms, 2)}` : '– | –';

function historySection(targets: Named[], quick: boolean): string[] {
  const ran = targets.filter((t) => t.history !== undefined);
  if (ran.length === 0) return [];
  const sizes = [...new Set(ran.map((t) => figures(t.history)?.messages).filter((n) => n !== undefined))];
  const channel = sizes.length > 0 ? `${sizes.map((n) => n.toLocaleString('en')).join(' / ')}-message` : 'long';
  const lines = [
    `### history: ${HISTORY_PAGE}-message pages below a random point of a ${channel} channel, closed loop` +
      (quick ? ' (quick run: fewer messages than the 1M of a full run)' : ''),
    '',
    '| target | concurrency | route pages/s | route p50 / p99 ms | direct query pages/s | direct p50 / p99 ms | p99 ÷ direct | pages/s ÷ direct | server CPU µs / page | seeded in s |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const t of ran) {
    const h = figures(t.history);
    if (!h) {
      lines.push(`| ${t.name} | ${why(t.history)} |`);
      continue;
    }
    for (const r of h.server) {
      const d = h.direct.find((x) => x.concurrency === r.concurrency);
      lines.push(
        `| ${t.name} | ${r.concurrency} | ${runCell(r)} | ${runCell(d)} | ${fmt(ratio(r.p99Ms, d?.p99Ms), 2)} | ` +
          `${fmt(ratio(r.perSecond, d?.perSecond), 2)} | ${fmt(r.serverCpuUsPerPage, 0)} | ${h.seedSeconds} |`,
      );
    }
  }
  return [...lines, ''];
}

function loginSection(targets: Named[]): string[] {
  const ran = targets.filter((t) => t.login !== undefined);
  if (ran.length === 0) return [];
  const lines = [
    '### login: Argon2id sign-ins through POST /api/auth/login vs raw verifies (same parameters, same CPUs, same concurrency)',
    '',
    '| target | concurrency | route logins/s | route p50 / p99 ms | route server CPU ms / login | raw verifies/s | raw CPU ms / verify | route ÷ raw |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const t of ran) {
    const l = figures(t.login);
    if (!l) {
      lines.push(`| ${t.name} | ${why(t.login)} |`);
      continue;
    }
    lines.push(
      `| ${t.name} | ${l.concurrency} | ${fmt(l.server.perSecond)}${l.server.errors ? ` (${l.server.errors} errors)` : ''} | ` +
        `${fmt(l.server.p50Ms, 0)} / ${fmt(l.server.p99Ms, 0)} | ${fmt(l.server.cpuMsPerLogin)} | ${fmt(l.raw.perSecond)} | ` +
        `${fmt(l.raw.cpuMsPerVerify)} | ${fmt(l.ratio, 2)} |`,
    );
  }
  return [...lines, ''];
}

function goalsSection(targets: Named[]): string[] {
  const ran = targets.filter((t) => t.history !== undefined || t.login !== undefined);
  if (ran.length === 0) return [];
  const check = (v: number | null | undefined, ok: (v: number) => boolean, suffix = '') =>
    v == null ? '–' : `${v.toFixed(2)}${suffix} ${ok(v) ? '✓' : '✗'}`;
  const cell = <T extends object>(o: Outcome<T> | undefined, value: (f: T) => string) => {
    const f = figures(o);
    return f ? value(f) : why(o);
  };
  const rows: string[] = [];
  if (ran.some((t) => t.history !== undefined)) {
    const p99At8 = (h: HistoryResult) => h.server.find((r) => r.concurrency === 8)?.p99Ms;
    rows.push(
      `| history: route p99 at concurrency 8 | ≤ ${HISTORY_GOAL_P99_MS} ms | ${ran
        .map((t) => cell(t.history, (h) => check(p99At8(h), (v) => v <= HISTORY_GOAL_P99_MS, ' ms')))
        .join(' | ')} |`,
    );
  }
  if (ran.some((t) => t.login !== undefined)) {
    rows.push(
      `| login: route logins/s ÷ raw Argon2id verifies/s | ≥ ${LOGIN_GOAL} | ${ran
        .map((t) => cell(t.login, (l) => check(l.ratio, (v) => v >= LOGIN_GOAL)))
        .join(' | ')} |`,
    );
  }
  return [
    '### Goals of the history and login scenarios',
    '',
    `| check | goal | ${ran.map((t) => t.name).join(' | ')} |`,
    `|---|---|${ran.map(() => '---|').join('')}`,
    ...rows,
    '',
  ];
}

/** The sections of the newer scenarios, for the targets that were not skipped. */
export function scenarioSections(targets: Named[], floorName: string, quick: boolean): string[] {
  const ran = targets.filter((t) => !t.skipped);
  const ratios = ladderRatios(ran, floorName);
  const channels = ran.map((t) => figures(t.channels)).find(Boolean);
  const dm = ran.map((t) => figures(t.dm)).find(Boolean);
  const small = quick ? ' (quick run: fewer than the 200 × 10 of a full run)' : '';
  return [
    ...goalsSection(ran),
    ...ladderSection(
      `### channels: ${channels ? `${channels.rooms} channels × ${channels.membersPerRoom} members` : 'many channels'}, Poisson senders, highest sustained rate (p99 ≤ 100 ms, ≥ 99.9% delivered)${small}`,
      'channels',
      ran,
      ratios,
      floorName,
    ),
    ...ladderSection(
      `### dm: ${dm ? dm.rooms : 'many'} 1:1 DMs, Poisson senders, highest sustained rate (p99 ≤ 100 ms, ≥ 99.9% delivered)${quick ? ' (quick run: fewer than the 500 pairs of a full run)' : ''}`,
      'dm',
      ran,
      ratios,
      floorName,
    ),
    ...presenceSection(ran, ratios, floorName),
    ...historySection(ran, quick),
    ...loginSection(ran),
  ];
}

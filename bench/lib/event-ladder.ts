// A rate ladder over many rooms at once, shared by the fanout, channels, dm and presence scenarios:
// events are sent at a total rate stepped up until a step fails (p99 delivery latency > 100 ms
// or < 99.9% delivered) or the generator is the bottleneck (> 90% of its CPU: discarded). A
// failed step is tried once more (the machine may be shared). Two ways to send: `poisson`
// (each event from a random member of a random room, exponential gaps: independent senders)
// and `round-robin` (members in turn, evenly spaced: needed where the server allows one event
// per user per interval, as for typing, or per socket, as for fan-out). Two ways to match deliveries: `nonce` (message.created
// frames by the index in the nonce; every member, the sender too, gets each one) and `sender`
// (typing/presence events by the user they are about; the k-th event about a user at a
// receiver is that user's k-th send; every other member gets each one).
import { cpuSeconds, cpuSecondsByPid, cpuSecondsSince, runqueueWaitSeconds, selfCpuSeconds, sleep } from './procs.js';
import type { LadderRoom } from './rooms.js';
import { percentile, round } from './stats.js';
import type { FrameSink } from './gateway-socket.js';
import type { RunningTarget } from '../targets/target.js';

const P99_LIMIT_MS = 100;
const MIN_DELIVERED = 0.999;
const GENERATOR_LIMIT = 0.9;

/** The ladder's settings that come from the run's plan. */
export interface LadderPlan {
  stepSeconds: number;
  warmupSeconds: number;
  drainMs: number;
  firstRate: number;
  /** performance.now() after which no further rate is tried (the run's time budget). */
  deadline: number;
}

export interface LadderOptions {
  rooms: LadderRoom[];
  schedule: 'poisson' | 'round-robin';
  matching: 'nonce' | { event: 'typing' | 'presence' };
  /** Round-robin: how many members (the first ones) take turns at this rate; all of them when not given. */
  senders?(rate: number): number;
  /** Sends the event with this index from member `member` of the room. */
  send(room: LadderRoom, member: number, index: number): void;
  rates: number[];
  /** The highest rate the protocol lets these rooms reach (passing it means the real limit is higher). */
  ceiling: number;
  warmupRate: number;
  warmupSeconds: number;
  stepSeconds: number;
  drainMs: number;
  /** performance.now() after which no further rate is tried. */
  deadline: number;
  /** Prefix of the progress lines. */
  label: string;
  /** The stop reasons when every rate passed and when the deadline came first, if not the usual words. */
  stops?: { ceiling?: string; deadline?: string };
}

export interface LadderStep {
  rate: number;
  /** 1, or 2 when the first attempt at this rate failed and it was tried once more. */
  attempt: number;
  sent: number;
  sentPerSec: number;
  expected: number;
  delivered: number;
  deliveredPct: number;
  deliveriesPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  ackP50Ms: number | null;
  ackP99Ms: number | null;
  errors: Record<string, number>;
  serverCpuPct: number;
  serverCpuUsPerDelivery: number | null;
  /** CPU of the target's other processes (PostgreSQL backends) per delivery. */
  auxCpuUsPerDelivery: number | null;
  generatorCpuPct: number;
  /** Time the server's main thread(s) waited for a CPU while runnable, % of the step (other load on the machine). */
  serverCpuWaitPct: number;
  ok: boolean;
  discarded: boolean;
  reason: string;
}

export interface LadderResult {
  steps: LadderStep[];
  /** The highest rate that passed. */
  best: LadderStep | null;
  ceiling: number;
  /** True when the best step was the ceiling: the real limit is higher. */
  atCeiling: boolean;
  stop: string;
}

/** Per step: what was sent when, what arrived, and how late. */
class Deliveries {
  readonly sentAt: number[] = [];
  readonly stepOf: number[] = [];
  delivered: number[] = [];
  latencies: number[][] = [];
  acks: number[][] = [];
  errors: Record<string, number>[] = [];
  private step = -1;
  /** Sender matching: each member's sends (event indexes); per receiver, how many events about each sender arrived. */
  private readonly sendsBy: number[][];
  private readonly received: Int32Array[];
  private readonly memberOf = new Map<string, number>();

  constructor(
    members: string[],
    private readonly matching: LadderOptions['matching'],
  ) {
    members.forEach((id, i) => this.memberOf.set(id, i));
    const bySender = matching !== 'nonce';
    this.sendsBy = bySender ? members.map(() => []) : [];
    this.received = bySender ? members.map(() => new Int32Array(members.length)) : [];
  }

  newStep(): number {
    this.step++;
    this.delivered.push(0);
    this.latencies.push([]);
    this.acks.push([]);
    this.errors.push({});
    return this.step;
  }

  register(step: number, sender: number, at: number): number {
    this.sentAt.push(at);
    this.stepOf.push(step);
    const index = this.sentAt.length - 1;
    this.sendsBy[sender]?.push(index);
    return index;
  }

  private arrived(index: number, at: number): void {
    const step = this.stepOf[index];
    if (step === undefined) return;
    this.delivered[step]!++;
    this.latencies[step]!.push(at - this.sentAt[index]!);
  }

  /** The sink of the socket of member `receiver`. */
  sinkFor(receiver: number): FrameSink {
    const wanted = this.matching === 'nonce' ? null : this.matching.event;
    return {
      delivery: (index, at) => {
        if (wanted === null) this.arrived(index, at);
      },
      ack: (index, at) => {
        const step = this.stepOf[index];
        if (step !== undefined) this.acks[step]!.push(at - this.sentAt[index]!);
      },
      error: (code) => {
        const e = this.errors[Math.max(0, this.step)]!;
        e[code] = (e[code] ?? 0) + 1;
      },
      event: (type, userId, at) => {
        if (type !== wanted) return;
        const sender = this.memberOf.get(userId);
        if (sender === undefined || sender === receiver) return;
        const k = this.received[receiver]![sender]!++;
        const index = this.sendsBy[sender]![k];
        if (index !== undefined) this.arrived(index, at);
      },
    };
  }

  release(step: number): void {
    this.latencies[step] = [];
    this.acks[step] = [];
  }
}

export async function runLadder(target: RunningTarget, options: LadderOptions): Promise<LadderResult> {
  const { rooms } = options;
  const members = rooms.flatMap((room) => room.sockets.map((_, m) => ({ room, m })));
  const deliveries = new Deliveries(
    rooms.flatMap((r) => r.userIds),
    options.matching,
  );
  members.forEach(({ room, m }, i) => (room.sockets[m]!.sink = deliveries.sinkFor(i)));
  // Round-robin goes on across steps, so a member's sends stay evenly spaced from one step to the next.
  let cursor = 0;
  const perEvent = (room: LadderRoom) => (options.matching === 'nonce' ? room.sockets.length : room.sockets.length - 1);

  const runStep = async (rate: number, seconds: number, attempt = 1): Promise<LadderStep> => {
    const step = deliveries.newStep();
    const aux = await target.auxPids();
    const cpu0 = cpuSeconds(target.pids);
    const aux0 = cpuSecondsByPid(aux);
    const wait0 = runqueueWaitSeconds(target.pids);
    const gen0 = process.cpuUsage();
    const start = performance.now();
    let sent = 0;
    let expected = 0;
    let nextAt = 0;
    const turns = options.senders?.(rate) ?? members.length;
    const sendOne = (member: number) => {
      const { room, m } = members[member]!;
      options.send(room, m, deliveries.register(step, member, performance.now()));
      expected += perEvent(room);
      sent++;
    };
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = Math.min(performance.now() - start, seconds * 1000);
        if (options.schedule === 'round-robin') {
          const due = Math.floor((rate * elapsed) / 1000);
          while (sent < due) sendOne(cursor++ % turns);
        } else {
          while (nextAt <= elapsed) {
            // Rooms are of one size, so a random member is a random member of a random room.
            sendOne(Math.floor(Math.random() * members.length));
            nextAt += (-Math.log(1 - Math.random()) / rate) * 1000;
          }
        }
        if (elapsed >= seconds * 1000) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    const sendEnd = performance.now();
    const generator = selfCpuSeconds(gen0) / ((sendEnd - start) / 1000);
    while (deliveries.delivered[step]! < expected && performance.now() < sendEnd + options.drainMs) await sleep(5);
    const end = performance.now();
    const cpu = cpuSeconds(target.pids) - cpu0;
    const auxCpu = cpuSecondsSince(aux0);
    const wait = runqueueWaitSeconds(target.pids) - wait0;
    const delivered = deliveries.delivered[step]!;
    const latencies = deliveries.latencies[step]!;
    const p99 = percentile(latencies, 0.99);
    const p50 = percentile(latencies, 0.5);
    const ratio = expected === 0 ? 0 : delivered / expected;
    const discarded = generator > GENERATOR_LIMIT;
    const ok = !discarded && ratio >= MIN_DELIVERED && p99 <= P99_LIMIT_MS;
    const reasons: string[] = [];
    if (discarded) reasons.push(`generator at ${(generator * 100).toFixed(0)}% CPU: discarded`);
    if (ratio < MIN_DELIVERED) reasons.push(`${(ratio * 100).toFixed(2)}% delivered`);
    if (!(p99 <= P99_LIMIT_MS)) reasons.push(`p99 ${p99.toFixed(0)} ms`);
    const waitPct = (wait / ((end - start) / 1000)) * 100;
    if (!ok && !discarded && waitPct > 25) reasons.push(`server waited ${waitPct.toFixed(0)}% of the step for a CPU`);
    const result: LadderStep = {
      rate,
      attempt,
      sent,
      sentPerSec: round(sent / ((sendEnd - start) / 1000), 0)!,
      expected,
      delivered,
      deliveredPct: round(ratio * 100, 3)!,
      deliveriesPerSec: round(delivered / ((end - start) / 1000), 0)!,
      p50Ms: round(p50, 2),
      p99Ms: round(p99, 2),
      ackP50Ms: round(percentile(deliveries.acks[step]!, 0.5), 2),
      ackP99Ms: round(percentile(deliveries.acks[step]!, 0.99), 2),
      errors: deliveries.errors[step]!,
      serverCpuPct: round((cpu / ((end - start) / 1000)) * 100, 0)!,
      serverCpuUsPerDelivery: delivered > 0 ? round((cpu * 1e6) / delivered, 2) : null,
      auxCpuUsPerDelivery: aux.length > 0 && delivered > 0 ? round((auxCpu * 1e6) / delivered, 2) : null,
      generatorCpuPct: round(generator * 100, 0)!,
      serverCpuWaitPct: round(waitPct, 0)!,
      ok,
      discarded,
      reason: ok ? 'ok' : reasons.join(', '),
    };
    deliveries.release(step);
    return result;
  };

  await runStep(options.warmupRate, options.warmupSeconds);
  await sleep(300);
  const steps: LadderStep[] = [];
  let stop = options.stops?.ceiling ?? 'reached the ceiling';
  for (const rate of options.rates) {
    if (performance.now() > options.deadline) {
      stop = options.stops?.deadline ?? 'the time budget was used up';
      break;
    }
    let step: LadderStep | undefined;
    // A failed step is tried once more: on a shared machine one descheduling can sink a p99.
    for (let attempt = 1; attempt <= 2 && !step?.ok && !step?.discarded; attempt++) {
      if (attempt > 1) await sleep(500);
      step = await runStep(rate, options.stepSeconds, attempt);
      steps.push(step);
      process.stdout.write(
        `  ${options.label} @ ${rate}/s${attempt > 1 ? ' (again)' : ''}: ${step.deliveredPct}% delivered, ` +
          `p50 ${step.p50Ms} / p99 ${step.p99Ms} ms, server ${step.serverCpuPct}% CPU, ` +
          `${step.serverCpuUsPerDelivery} µs/delivery, waited ${step.serverCpuWaitPct}% for CPU, ` +
          `generator ${step.generatorCpuPct}%${step.ok ? '' : ` → ${step.reason}`}\n`,
      );
    }
    if (!step!.ok) {
      stop = step!.reason;
      break;
    }
    // Let the per-socket token buckets refill and stragglers arrive.
    await sleep(300);
  }
  const best = steps.filter((s) => s.ok).at(-1) ?? null;
  return { steps, best, ceiling: options.ceiling, atCeiling: best !== null && best.rate >= options.ceiling, stop };
}

/** Rates from `first` up (doubling-ish), ending at the ceiling. */
export function rates(first: number, ceiling: number): number[] {
  const out: number[] = [];
  for (const r of [20, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600]) {
    if (r >= first && r < ceiling) out.push(r);
  }
  out.push(ceiling);
  return out;
}

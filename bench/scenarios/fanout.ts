// fanout: one channel, N member sockets, messages sent at a rate stepped up until a step
// fails (p99 delivery latency > 100 ms or < 99.9% delivered) or the generator is the
// bottleneck (> 90% of its CPU: the step is discarded). Every member socket, the sender's
// own included, should receive every message. Senders are spread over the members so no
// socket sends more than the gateway's per-socket allowance (10 frames/s, GATEWAY.refillPerSec);
// the highest rate a channel of N can reach is therefore N × 10/s, for every target. A step
// that fails is tried once more before the ladder stops (the machine may be shared). The
// ladder itself is the one the channels, dm and presence scenarios run (lib/event-ladder.ts).
import { type LadderPlan, type LadderStep, rates, runLadder } from '../lib/event-ladder.js';
import { ciphertext, withRooms } from '../lib/rooms.js';
import { round } from '../lib/stats.js';
import type { RunningTarget } from '../targets/target.js';

/** Frames per second one socket may send (the gateway's token bucket refill). */
export const PER_SOCKET_RATE = 10;

/** A ladder step and how many members took turns sending in it. */
export type FanoutStep = Omit<LadderStep, 'expected'> & { senders: number };

export interface FanoutResult {
  members: number;
  connectSeconds: number;
  steps: FanoutStep[];
  /** The highest rate that passed. */
  best: FanoutStep | null;
  /** True when the best step was the protocol ceiling (members × 10/s): the real limit is higher. */
  atCeiling: boolean;
  stop: string;
}

export function runFanout(target: RunningTarget, options: LadderPlan & { members: number }): Promise<FanoutResult> {
  const { members } = options;
  const ceiling = members * PER_SOCKET_RATE;
  // As few senders as the per-socket allowance permits, in turn, evenly spaced.
  const senders = (rate: number) => Math.min(members, Math.ceil(rate / PER_SOCKET_RATE));
  const make = async () => [{ id: target.room, members: await target.createMembers(members) }];
  return withRooms(target, make, async (rooms, times) => {
    const result = await runLadder(target, {
      label: `fanout ${members}`,
      rooms,
      schedule: 'round-robin',
      senders,
      matching: 'nonce',
      send: (room, member, index) => room.sockets[member]!.sendMessage(room.id, index, ciphertext(index)),
      rates: rates(options.firstRate, ceiling),
      ceiling,
      warmupRate: Math.min(20, ceiling),
      warmupSeconds: options.warmupSeconds,
      stepSeconds: options.stepSeconds,
      drainMs: options.drainMs,
      deadline: options.deadline,
      stops: { ceiling: 'reached the ceiling (members × 10/s)', deadline: 'the run’s time budget was used up' },
    });
    // The fan-out report's fields, in its order: `senders` after the attempt, no `expected`.
    const withSenders = ({ expected: _expected, rate, attempt, ...step }: LadderStep): FanoutStep => ({
      rate,
      attempt,
      senders: senders(rate),
      ...step,
    });
    return {
      members,
      connectSeconds: round(times.connectSeconds, 2)!,
      steps: result.steps.map(withSenders),
      best: result.best && withSenders(result.best),
      atCeiling: result.atCeiling,
      stop: result.stop,
    };
  });
}

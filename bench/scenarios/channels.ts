// channels: many small rooms at once, as a busy instance has them: 200 channels of 10 members
// (each channel a place of its own), messages from Poisson senders (every event from a random
// member of a random channel) at a total rate stepped up. Each message reaches the 10 members
// of its channel, the sender too. Reports the highest sustained rate, p50/p99 delivery latency
// and server CPU per delivery. The `dm` scenario runs the same ladder over 1:1 DMs.
import { GATEWAY } from '@chatalot/protocol';
import { type LadderPlan, type LadderResult, rates, runLadder } from '../lib/event-ladder.js';
import { ciphertext, withRooms } from '../lib/rooms.js';
import type { Room, RunningTarget } from '../targets/target.js';

/** Poisson senders at up to this average per socket stay inside the gateway's 10/s (burst 30) but for a ~10σ run. */
const PER_SOCKET_AVERAGE = GATEWAY.refillPerSec * 0.8;

export interface RoomsResult extends LadderResult {
  rooms: number;
  membersPerRoom: number;
  setupSeconds: number;
  connectSeconds: number;
}

/** The ladder over rooms the target made (channels or DMs); `scheme` as a client would encrypt for them. */
export function runRoomsLadder(
  target: RunningTarget,
  label: string,
  make: () => Promise<Room[]>,
  scheme: 'sender_key' | 'pairwise',
  plan: LadderPlan,
): Promise<RoomsResult> {
  return withRooms(target, make, async (rooms, times) => {
    const members = rooms.reduce((n, r) => n + r.sockets.length, 0);
    const ceiling = members * PER_SOCKET_AVERAGE;
    const result = await runLadder(target, {
      label,
      rooms,
      schedule: 'poisson',
      matching: 'nonce',
      send: (room, member, index) => room.sockets[member]!.sendMessage(room.id, index, ciphertext(index), scheme),
      rates: rates(plan.firstRate, ceiling),
      ceiling,
      warmupRate: Math.min(50, ceiling),
      warmupSeconds: plan.warmupSeconds,
      stepSeconds: plan.stepSeconds,
      drainMs: plan.drainMs,
      deadline: Math.min(plan.deadline, performance.now() + 60_000),
    });
    return {
      rooms: rooms.length,
      membersPerRoom: rooms[0]?.sockets.length ?? 0,
      setupSeconds: Number(times.setupSeconds.toFixed(1)),
      connectSeconds: Number(times.connectSeconds.toFixed(1)),
      ...result,
    };
  });
}

export function runChannels(
  target: RunningTarget,
  options: LadderPlan & { channels: number; members: number },
): Promise<RoomsResult> {
  process.stdout.write(`  channels: ${options.channels} × ${options.members} members\n`);
  return runRoomsLadder(
    target,
    `channels ${options.channels}×${options.members}`,
    () => target.createRooms(options.channels, options.members),
    'sender_key',
    options,
  );
}

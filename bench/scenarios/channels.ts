// channels: many small rooms at once, as a busy instance has them: 200 channels of 10 members
// (each channel a place of its own), messages from Poisson senders (every event from a random
// member of a random channel) at a total rate stepped up. Each message reaches the 10 members
// of its channel, the sender too. Reports the highest sustained rate, p50/p99 delivery latency
// and server CPU per delivery. The `dm` scenario runs the same ladder over 1:1 DMs.
import { randomBytes } from 'node:crypto';
import { GATEWAY } from '@chatalot/protocol';
import { connectRooms, type LadderResult, rates, runLadder, waitQuiet } from '../lib/event-ladder.js';
import type { Room, RunningTarget } from '../targets/target.js';

/** Poisson senders at up to this average per socket stay inside the gateway's 10/s (burst 30) but for a ~10σ run. */
const PER_SOCKET_AVERAGE = GATEWAY.refillPerSec * 0.8;

export interface RoomsPlan {
  stepSeconds: number;
  warmupSeconds: number;
  drainMs: number;
  firstRate: number;
  deadline: number;
}

export interface RoomsResult extends LadderResult {
  rooms: number;
  membersPerRoom: number;
  setupSeconds: number;
  connectSeconds: number;
}

const CIPHERTEXTS = Array.from({ length: 64 }, () =>
  randomBytes(300 + Math.floor(Math.random() * 701)).toString('base64'),
);

/** The ladder over rooms the target made (channels or DMs); `scheme` as a client would encrypt for them. */
export async function runRoomsLadder(
  target: RunningTarget,
  label: string,
  make: () => Promise<Room[]>,
  scheme: 'sender_key' | 'pairwise',
  plan: RoomsPlan,
): Promise<RoomsResult> {
  const t0 = performance.now();
  const made = await make();
  const setupSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const rooms = await connectRooms(target, made);
  try {
    const connectSeconds = (performance.now() - t1) / 1000;
    await waitQuiet(target.pids, 30);
    const members = rooms.reduce((n, r) => n + r.sockets.length, 0);
    const ceiling = members * PER_SOCKET_AVERAGE;
    const result = await runLadder(target, {
      label,
      rooms,
      schedule: 'poisson',
      matching: 'nonce',
      send: (room, member, index) =>
        room.sockets[member]!.sendMessage(room.id, index, CIPHERTEXTS[index % CIPHERTEXTS.length]!, scheme),
      rates: rates(plan.firstRate, ceiling),
      ceiling,
      warmupRate: Math.min(50, ceiling),
      warmupSeconds: plan.warmupSeconds,
      stepSeconds: plan.stepSeconds,
      drainMs: plan.drainMs,
      deadline: Math.min(plan.deadline, performance.now() + 60_000),
    });
    return {
      rooms: made.length,
      membersPerRoom: made[0]?.members.length ?? 0,
      setupSeconds: Number(setupSeconds.toFixed(1)),
      connectSeconds: Number(connectSeconds.toFixed(1)),
      ...result,
    };
  } finally {
    for (const room of rooms) for (const s of room.sockets) s.close();
  }
}

export function runChannels(
  target: RunningTarget,
  options: RoomsPlan & { channels: number; members: number },
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

// Rooms of member sockets for the ladder scenarios (fanout, channels, dm, presence): making and
// connecting them, timed, letting the server settle first, and closing every socket after.
import { randomBytes } from 'node:crypto';
import { cpuSeconds, sleep } from './procs.js';
import { pool } from './stats.js';
import type { Account, BenchSocket, RunningTarget } from '../targets/target.js';

export interface LadderRoom {
  id: string;
  sockets: BenchSocket[];
  userIds: string[];
}

export interface RoomsTimes {
  /** Making the rooms and their members. */
  setupSeconds: number;
  /** Connecting every member's socket. */
  connectSeconds: number;
}

/** E2E-sized bodies: base64 of 300–1,000 random bytes. */
const CIPHERTEXTS = Array.from({ length: 64 }, () =>
  randomBytes(300 + Math.floor(Math.random() * 701)).toString('base64'),
);

/** A message body for the event with this index. */
export function ciphertext(index: number): string {
  return CIPHERTEXTS[index % CIPHERTEXTS.length]!;
}

/** Opens a socket per account (50 at a time) into rooms; closes what opened if any fails. */
async function connectRooms(target: RunningTarget, rooms: { id: string; members: Account[] }[]): Promise<LadderRoom[]> {
  const flat = rooms.flatMap((room) => room.members);
  const opened = await pool(flat, 50, (a) => target.connect(a));
  const failed = opened.find((r) => r.status === 'rejected');
  if (failed) {
    for (const r of opened) if (r.status === 'fulfilled') r.value.close();
    throw new Error(`a member could not connect: ${String(failed.reason)}`);
  }
  const sockets = opened.map((r) => (r as PromiseFulfilledResult<BenchSocket>).value);
  let next = 0;
  return rooms.map((room) => ({
    id: room.id,
    userIds: room.members.map((m) => m.id),
    sockets: room.members.map(() => sockets[next++]!),
  }));
}

/** Waits until the server processes use under 10% of a CPU (e.g. after a burst of presence events). */
export async function waitQuiet(pids: number[], maxSeconds: number): Promise<void> {
  const deadline = performance.now() + maxSeconds * 1000;
  let last = cpuSeconds(pids);
  while (performance.now() < deadline) {
    await sleep(300);
    const now = cpuSeconds(pids);
    if (now - last < 0.03) return;
    last = now;
  }
}

/**
 * Makes the rooms, connects every member, waits until the server is quiet, runs `body` on them
 * and closes every socket after, whatever happened.
 */
export async function withRooms<R>(
  target: RunningTarget,
  make: () => Promise<{ id: string; members: Account[] }[]>,
  body: (rooms: LadderRoom[], times: RoomsTimes) => Promise<R>,
): Promise<R> {
  const t0 = performance.now();
  const made = await make();
  const setupSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const rooms = await connectRooms(target, made);
  try {
    const connectSeconds = (performance.now() - t1) / 1000;
    await waitQuiet(target.pids, 30);
    return await body(rooms, { setupSeconds, connectSeconds });
  } finally {
    for (const room of rooms) for (const s of room.sockets) s.close();
  }
}

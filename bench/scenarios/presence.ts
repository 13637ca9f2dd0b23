// presence: the ephemeral events of one room of 50 members (a place of its own). First
// `typing`, which the gateway lets each user send once per 3 s per channel, so its rate tops
// out at members ÷ 3 per second (members take turns, evenly spaced, below that); then
// `presence.set` (each one written to the database and announced to everyone sharing a place),
// stepped up like fan-out. Every other member should get each event. Reports deliveries/s,
// p50/p99 latency and server CPU per delivery for both.
import { GATEWAY } from '@chatalot/protocol';
import { type LadderPlan, type LadderResult, rates, runLadder } from '../lib/event-ladder.js';
import { waitQuiet, withRooms } from '../lib/rooms.js';
import type { RunningTarget } from '../targets/target.js';

const STATUSES = ['idle', 'dnd', 'online'] as const;
/** A little above the gateway's typing interval, for timer jitter. */
const TYPING_SPACING_SECS = (GATEWAY.typingIntervalMs / 1000) * 1.07;
/** presence.set in turn stays inside the per-socket allowance (GATEWAY.refillPerSec) with room for jitter. */
const PRESENCE_PER_SOCKET = GATEWAY.refillPerSec * 0.8;

export interface PresenceResult {
  members: number;
  setupSeconds: number;
  connectSeconds: number;
  typing: LadderResult;
  presence: LadderResult;
}

export function runPresence(target: RunningTarget, options: LadderPlan & { members: number }): Promise<PresenceResult> {
  const { members } = options;
  process.stdout.write(`  presence: one room of ${members}\n`);
  return withRooms(
    target,
    () => target.createRooms(1, members),
    async (rooms, times) => {
      const deadline = Math.min(options.deadline, performance.now() + 60_000);
      const common = {
        rooms,
        schedule: 'round-robin' as const,
        drainMs: options.drainMs,
        warmupSeconds: options.warmupSeconds,
        deadline,
      };

      const typingCeiling = Math.max(1, Math.floor(members / TYPING_SPACING_SECS));
      const typing = await runLadder(target, {
        ...common,
        label: `typing ${members}`,
        matching: { event: 'typing' },
        send: (room, member) => room.sockets[member]!.sendTyping(room.id),
        rates: [...new Set([Math.ceil(typingCeiling / 4), Math.ceil(typingCeiling / 2), typingCeiling])],
        ceiling: typingCeiling,
        warmupRate: Math.ceil(typingCeiling / 4),
        // Few events per second: longer steps for a p99 worth the name.
        stepSeconds: Math.max(options.stepSeconds, 3),
      });

      await waitQuiet(target.pids, 10);
      const presenceCeiling = Math.floor(members * PRESENCE_PER_SOCKET);
      const presence = await runLadder(target, {
        ...common,
        label: `presence ${members}`,
        matching: { event: 'presence' },
        send: (room, member, index) => room.sockets[member]!.setPresence(STATUSES[index % STATUSES.length]!),
        rates: rates(options.firstRate, presenceCeiling),
        ceiling: presenceCeiling,
        warmupRate: Math.min(20, presenceCeiling),
        stepSeconds: options.stepSeconds,
        deadline,
      });
      return {
        members,
        setupSeconds: Number(times.setupSeconds.toFixed(1)),
        connectSeconds: Number(times.connectSeconds.toFixed(1)),
        typing,
        presence,
      };
    },
  );
}

import { GatewaySocket } from '../lib/gateway-socket.js';
import { spawnNode } from '../lib/procs.js';
import type { Account, Room, RunningTarget, StartOptions, Target } from './target.js';

/** bench/floor-ws.ts: what the runtime and `ws` cost alone. */
export const wsFloor: Target = {
  name: 'ws-floor',
  description: 'minimal broadcast server on the same ws package (bench/floor-ws.ts), trivial auth, ack',
  unavailable: async () => null,
  async start(options: StartOptions): Promise<RunningTarget> {
    // Run the same way as the server (node --import tsx), so both carry tsx's loader.
    const proc = spawnNode('ws-floor', [...(options.nodeFlags ?? []), '--import', 'tsx', 'bench/floor-ws.ts'], {
      env: {},
      cpus: options.cpus,
    });
    try {
      const [, url] = await proc.waitFor(/is running at http:\/\/(\S+)/, 60_000);
      const wsUrl = `ws://${url}/ws`;
      let next = 0;
      const accounts = (kind: string, count: number, room?: string): Account[] =>
        Array.from({ length: count }, () => {
          const id = `${kind}${next++}`;
          return { id, token: room ? `${kind}:${id}:${room}` : `${kind}:${id}`, process: 0 };
        });
      let nextRoom = 2;
      // The floor's rooms exist as soon as someone names them in their token.
      const rooms = (count: number, size: number): Room[] =>
        Array.from({ length: count }, () => {
          const id = `room-${nextRoom++}`;
          return { id, members: accounts('member', size, id) };
        });
      return {
        pids: [proc.pid],
        room: 'room-1',
        createMembers: async (count) => accounts('member', count),
        createLoners: async (count) => accounts('loner', count),
        createRooms: async (count, size) => rooms(count, size),
        createDmPairs: async (count) => rooms(count, 2),
        connect: (account) => GatewaySocket.open(wsUrl, account.token),
        auxPids: async () => [],
        stop: () => proc.stop(),
      };
    } catch (err) {
      await proc.stop();
      throw err;
    }
  },
};

// The one small interface every benchmarked server sits behind. A target starts its server
// process(es) on 127.0.0.1 and a free port (pinned to the server CPUs), creates accounts that
// are members of one room (or of nothing, for idle sockets), connects them, and stops every
// process it started by PID. Scenarios only talk to this interface.
import type { FrameSink } from '../lib/gateway-socket.js';

/** A connected, authenticated socket ("on-message" goes to its sink). */
export interface BenchSocket {
  sink: FrameSink;
  readonly isOpen: boolean;
  readonly closed: Promise<{ code: number }>;
  /** Sends a message to the room; its nonce/id must carry `index` so deliveries can be matched. */
  sendMessage(room: string, index: number, ciphertext: string): void;
  close(): void;
}

export interface StartOptions {
  /** CPU list for the server processes (taskset -c), undefined when unpinned. */
  cpus: string | undefined;
  /** Extra `node` flags for the server processes (e.g. --cpu-prof, --heapsnapshot-signal). */
  nodeFlags?: string[];
}

/** One account (or device) that can open a socket. */
export interface Account {
  id: string;
  token: string;
  /** Which server process it connects to (targets with several processes split the accounts). */
  process: number;
}

export interface RunningTarget {
  /** Server processes by PID: CPU time and RSS are summed over them. */
  pids: number[];
  /** The room (channel) every member is in. */
  room: string;
  /** Accounts that are members of the room ("join room"); created before anything is measured. */
  createMembers(count: number): Promise<Account[]>;
  /** Accounts in no room at all, for idle sockets. */
  createLoners(count: number): Promise<Account[]>;
  /** Opens a socket for the account, authenticates, and resolves once the server is ready. */
  connect(account: Account): Promise<BenchSocket>;
  /** Processes outside the server whose CPU is worth recording (e.g. PostgreSQL backends). */
  auxPids(): Promise<number[]>;
  /** Stops every process this target started and removes what it created. */
  stop(): Promise<void>;
}

export interface Target {
  name: string;
  description: string;
  /** Null when the target can run here, otherwise why it is skipped. */
  unavailable(): Promise<string | null>;
  start(options: StartOptions): Promise<RunningTarget>;
}

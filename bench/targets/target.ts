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
  sendMessage(room: string, index: number, ciphertext: string, scheme?: 'sender_key' | 'pairwise'): void;
  /** Says the user is typing in the room (everyone else in it gets a `typing` event). */
  sendTyping(room: string): void;
  /** Sets the user's presence (everyone who shares a place with them gets a `presence` event). */
  setPresence(status: 'online' | 'idle' | 'dnd'): void;
  close(): void;
}

/** A room (channel or 1:1 DM) and its members. */
export interface Room {
  id: string;
  members: Account[];
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
  /**
   * `count` rooms of `size` members each, every room a place of its own (its own community),
   * so what one room's members cause (presence, joins) stays inside it.
   */
  createRooms(count: number, size: number): Promise<Room[]>;
  /** `count` 1:1 DMs, each between two fresh accounts who share a place. */
  createDmPairs(count: number): Promise<Room[]>;
  /** REST and the database of a Chatalot server; undefined for targets that have neither (ws-floor). */
  server?: ServerAccess;
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

/** Where a Chatalot target's database is, for seeding and for running its queries directly. */
export type DatabaseLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export interface ServerAccess {
  /** http://127.0.0.1:port of the (first) server process. */
  baseUrl: string;
  database: DatabaseLocation;
  /** Accounts that sign in with `password` through POST /api/auth/login (a hash with the server's parameters). */
  createPasswordAccounts(count: number): Promise<{ usernames: string[]; password: string; passwordHash: string }>;
  /**
   * A fresh channel holding `count` messages written straight into the database (the server's
   * schema), and an account that may read it.
   */
  seedHistory(count: number): Promise<{ channelId: string; reader: Account; seedSeconds: number }>;
}

import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import {
  ChannelList,
  CommunityInvite,
  Community,
  GATEWAY,
  Group,
  RegisterResponse,
  RegistrationInvite,
} from '@chatalot/protocol';
import WebSocket from 'ws';
import { ciphertext, type Frame, SENDER_KEY, TestSocket } from '../src/test-support/ws-client.js';

/**
 * Whole-process helpers for the durability and scale-out tests: the real server entry point
 * (`src/main.ts` through tsx, as `npm start` runs it) as a child process, a REST client, a
 * community world built over HTTP, and a WebSocket sender that stays under the gateway's
 * per-socket token bucket.
 */

const SERVER_DIR = path.resolve(import.meta.dirname, '..');

export interface ServerProcess {
  name: string;
  /** http://127.0.0.1:PORT */
  url: string;
  /** ws://127.0.0.1:PORT/ws */
  wsUrl: string;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  exited: Promise<number | string | null>;
  output(): string;
  /** SIGKILL, then waits for the process to be gone. */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s), then waits for the process to be gone. */
  stop(): Promise<void>;
}

/** Every process started in this test file, for `dumpOutputs` and `stopAll`. */
const started: ServerProcess[] = [];

/**
 * Starts `node --import tsx src/main.ts` (the server package's start script) with only the
 * given environment, and resolves once it prints its URL. Listens on a free port.
 */
export function startServerProcess(name: string, env: Record<string, string>, timeoutMs = 60_000) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER_DIR,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LISTEN_ADDR: '127.0.0.1:0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );

  return new Promise<ServerProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`[${name}] did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const match = /is running at (http:\/\/\S+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      const url = match[1]!;
      const server: ServerProcess = {
        name,
        url,
        wsUrl: `${url.replace(/^http/, 'ws')}/ws`,
        child,
        exited,
        output: () => out,
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(timer);
          }
        },
      };
      started.push(server);
      resolve(server);
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`[${name}] exited with ${String(code)} before it started:\n${out}`));
    });
  });
}

/** Prints the output of every process this file started (for a failed test). */
export function dumpOutputs(): void {
  for (const server of started) {
    console.error(
      `----- output of server process ${server.name} (${server.url}) -----\n${server.output() || '(none)'}`,
    );
  }
}

/** Stops every process this file started that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all(started.map((s) => s.stop()));
}

/** Calls a REST route; throws with the status and body unless it answered 2xx. */
export async function api(
  server: ServerProcess,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  pathname: string,
  options: { token?: string; body?: unknown } = {},
): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(pathname, server.url), {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${pathname} on ${server.name} answered ${res.status}: ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

export interface Member {
  id: string;
  username: string;
  /** Access token (valid 15 minutes). */
  token: string;
}

export interface ChatWorld {
  /** The first account: instance owner, owner of the community. */
  owner: Member;
  members: Record<string, Member>;
  communityId: string;
  groupId: string;
  /** The public group's auto-created #general channel. */
  channelId: string;
}

const PASSWORD = 'durable-Scale-out-passphrase-42';

/**
 * Builds, over REST, what a fresh instance looks like after its first day: the first account
 * registers without an invite (REGISTRATION_MODE defaults to invite_only) and becomes instance
 * owner; it creates a registration invite for the others, a community (COMMUNITY_CREATION_MODE
 * defaults to admin_only, which the owner is) with a public group (which brings its #general
 * channel), and a community invite that everyone else joins with (joining adds them to the
 * public groups). `joinVia` lets another process handle the joins (tokens from `via`).
 */
export async function buildChatWorld(
  via: ServerProcess,
  names: string[],
  joinVia: ServerProcess = via,
): Promise<ChatWorld> {
  const tag = Math.random().toString(36).slice(2, 8);
  const first = RegisterResponse.parse(
    await api(via, 'POST', '/api/auth/register', { body: { username: `owner_${tag}`, password: PASSWORD } }),
  );
  if (first.user.instance_role !== 'owner') throw new Error(`first account is ${first.user.instance_role}`);
  const owner: Member = { id: first.user.id, username: first.user.username, token: first.access_token };

  const registration = RegistrationInvite.parse(
    await api(via, 'POST', '/api/admin/invites', { token: owner.token, body: { max_uses: names.length } }),
  );
  const members: Record<string, Member> = {};
  for (const name of names) {
    const res = RegisterResponse.parse(
      await api(via, 'POST', '/api/auth/register', {
        body: { username: `${name}_${tag}`, password: PASSWORD, invite_code: registration.code },
      }),
    );
    members[name] = { id: res.user.id, username: res.user.username, token: res.access_token };
  }

  const community = Community.parse(
    await api(via, 'POST', '/api/communities', { token: owner.token, body: { name: `Durable ${tag}` } }),
  );
  const group = Group.parse(
    await api(via, 'POST', `/api/communities/${community.id}/groups`, {
      token: owner.token,
      body: { name: 'Lobby', visibility: 'public' },
    }),
  );
  const { channels } = ChannelList.parse(
    await api(via, 'GET', `/api/groups/${group.id}/channels`, { token: owner.token }),
  );
  const general = channels.find((c) => c.name === 'general');
  if (!general) throw new Error(`no #general in ${JSON.stringify(channels)}`);
  const invite = CommunityInvite.parse(
    await api(via, 'POST', `/api/communities/${community.id}/invites`, { token: owner.token, body: {} }),
  );
  for (const member of Object.values(members)) {
    await api(joinVia, 'POST', `/api/invites/${invite.code}/join`, { token: member.token });
  }
  return { owner, members, communityId: community.id, groupId: group.id, channelId: general.id };
}

/** Opens a socket and sends the auth frame; resolves with the `ready` frame or how it closed. */
export async function tryConnect(
  server: ServerProcess,
  member: Member,
): Promise<{ socket: TestSocket; ready: Frame | null; closed: { code: number; reason: string } | null }> {
  const socket = await TestSocket.open(server.wsUrl);
  socket.send({ op: 'auth', token: member.token });
  const ready = socket.next((f) => f.type === 'ready', 15_000).catch(() => null);
  const outcome = await Promise.race([ready.then((f) => ({ f })), socket.closed.then((c) => ({ c }))]);
  if ('f' in outcome && outcome.f) return { socket, ready: outcome.f, closed: null };
  return { socket, ready: null, closed: await socket.closed };
}

/** A signed-in socket; throws when the server refused it. */
export async function connect(server: ServerProcess, member: Member): Promise<TestSocket> {
  const { socket, ready, closed } = await tryConnect(server, member);
  if (!ready) throw new Error(`socket for ${member.username} on ${server.name} refused: ${JSON.stringify(closed)}`);
  return socket;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Keeps a socket under the gateway's token bucket (burst 30, 10 frames/s, the auth frame
 * included) with some margin, so sends are not refused as rate_limited.
 */
class FramePacer {
  private tokens: number = GATEWAY.burst - 1;
  private at = Date.now();
  private readonly rate = GATEWAY.refillPerSec * 0.8;
  private chain: Promise<void> = Promise.resolve();

  take(stop: () => boolean): Promise<void> {
    const turn = this.chain.then(() => this.takeOne(stop));
    this.chain = turn;
    return turn;
  }

  private async takeOne(stop: () => boolean): Promise<void> {
    for (;;) {
      if (stop()) return;
      const now = Date.now();
      this.tokens = Math.min(GATEWAY.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
      this.at = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - this.tokens) / this.rate) * 1000));
    }
  }
}

/**
 * Sends `message.send` frames on one socket (ref = nonce), paced under the token bucket, and
 * resolves each with its `ack` or `error` frame, or null when the socket closed first.
 */
export class MessageSender {
  private readonly waiting = new Map<string, (frame: Frame | null) => void>();
  private readonly pacer = new FramePacer();

  constructor(
    readonly socket: TestSocket,
    readonly channelId: string,
  ) {
    socket.ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      if ((frame.type !== 'ack' && frame.type !== 'error') || typeof frame.ref !== 'string') return;
      const resolve = this.waiting.get(frame.ref);
      this.waiting.delete(frame.ref);
      resolve?.(frame);
    });
    void socket.closed.then(() => {
      for (const resolve of this.waiting.values()) resolve(null);
      this.waiting.clear();
    });
  }

  get isOpen(): boolean {
    return this.socket.ws.readyState === WebSocket.OPEN;
  }

  async send(nonce: string): Promise<Frame | null> {
    await this.pacer.take(() => !this.isOpen);
    if (!this.isOpen) return null;
    if (this.waiting.has(nonce)) throw new Error(`nonce ${nonce} is already in flight on this socket`);
    const answer = new Promise<Frame | null>((resolve) => this.waiting.set(nonce, resolve));
    this.socket.send({
      op: 'message.send',
      ref: nonce,
      channel_id: this.channelId,
      nonce,
      ciphertext: ciphertext(nonce),
      encryption: SENDER_KEY,
    });
    return answer;
  }

  /** Sends until answered with anything but rate_limited; null when the socket closed. */
  async sendUntilAnswered(nonce: string): Promise<Frame | null> {
    for (;;) {
      const answer = await this.send(nonce);
      if (answer?.type !== 'error' || answer.code !== 'rate_limited') return answer;
      await sleep(250);
    }
  }
}

export interface AckData {
  nonce: string;
  id: string;
  channel_id: string;
  seq: number;
}

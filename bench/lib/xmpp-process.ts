// Native server processes for the XMPP targets (ejabberd's Erlang VM, Prosody's Lua): spawned
// through `sh` only to raise the open-file limit, then exec'd (taskset too), so the PID is the
// server's own. Ready is when its port accepts TCP. lib/procs.ts starts only `node`, hence this
// small sibling; its own `stopXmppProcesses` covers what procs.stopAll does for node servers.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { sleep } from './procs.js';

export interface NativeProcess {
  pid: number;
  child: ChildProcess;
  /** The last ~100 KB of stdout and stderr. */
  output(): string;
  /** Resolves once 127.0.0.1:`port` accepts a connection; rejects if the process exits first. */
  waitForPort(port: number, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone and its scratch folder removed. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<NativeProcess>();

/**
 * The soft open-file limit raised as far as the hard one allows (a `ulimit -n 65536` fails for
 * an unprivileged shell, and both XMPP servers stop near 1,000 connections at the 1,024 default).
 */
const RAISE_FILES = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';

/**
 * Starts `file args` in `scratchDir` (the server's scratch folder, removed once it stopped), pinned to
 * `cpus` when given, with only the given environment (plus PATH, HOME).
 */
export function spawnNative(
  name: string,
  file: string,
  args: string[],
  options: { scratchDir: string; env: Record<string, string>; cpus: string | undefined },
): NativeProcess {
  const command = options.cpus ? ['taskset', '-c', options.cpus, file, ...args] : [file, ...args];
  const child = spawn('sh', ['-c', RAISE_FILES, 'sh', ...command], {
    cwd: options.scratchDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${file}`);
  let out = '';
  const onData = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;

  const proc: NativeProcess = {
    pid: child.pid,
    child,
    output: () => out,
    async waitForPort(port, timeoutMs = 60_000) {
      const deadline = performance.now() + timeoutMs;
      while (!(await accepts(port))) {
        if (!alive()) throw new Error(`${name} exited (code ${child.exitCode}) before listening:\n${out.slice(-2000)}`);
        if (performance.now() > deadline) {
          throw new Error(`${name} did not listen on ${port} within ${timeoutMs} ms:\n${out.slice(-2000)}`);
        }
        await sleep(200);
      }
    },
    async stop(graceMs = 15_000) {
      if (alive()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      rmSync(options.scratchDir, { recursive: true, force: true });
      running.delete(proc);
    },
  };
  running.add(proc);
  return proc;
}

/** Stops every native process still running (the benchmark's last `finally` and its signal handlers). */
export async function stopXmppProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(3000)));
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A TCP port free on 127.0.0.1 right now (the kernel's pick for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

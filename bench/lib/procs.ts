// Child processes for the benchmark: spawned pinned to CPUs with taskset (when there is more
// than one CPU), stopped by PID in `finally`, and measured from /proc (CPU time, RSS).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

const running = new Set<Spawned>();

/** Clock ticks per second of /proc/<pid>/stat times (getconf CLK_TCK; 100 on Linux). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Where the load generator (this process) and the servers run: two disjoint CPU sets when the
 * machine has at least two CPUs and taskset exists (util-linux), otherwise unpinned.
 */
export const PINNING: { generator: string | undefined; server: string | undefined; note: string } = (() => {
  const n = cpus().length;
  if (n < 2) return { generator: undefined, server: undefined, note: 'one CPU: generator and servers share it' };
  if (!hasTaskset()) return { generator: undefined, server: undefined, note: 'taskset not found: unpinned' };
  const half = Math.floor(n / 2);
  const range = (a: number, b: number) => (a === b ? `${a}` : `${a}-${b}`);
  return {
    generator: range(0, half - 1),
    server: range(half, n - 1),
    note: `generator on CPU ${range(0, half - 1)}, servers on CPU ${range(half, n - 1)}`,
  };
})();

/** Pins this process (every thread) to the generator's CPUs. */
export function pinSelf(): void {
  if (!PINNING.generator) return;
  execFileSync('taskset', ['-a', '-cp', PINNING.generator, String(process.pid)], { stdio: 'ignore' });
}

export interface Spawned {
  name: string;
  pid: number;
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `re` in the output; rejects if the process exits first. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Runs `node <args>` from the repository root with only the given environment (plus PATH, HOME). */
export function spawnNode(
  name: string,
  args: string[],
  options: { env: Record<string, string>; cpus?: string | undefined },
): Spawned {
  const command = options.cpus
    ? { file: 'taskset', args: ['-c', options.cpus, process.execPath, ...args] }
    : { file: process.execPath, args };
  // taskset execs node, so the PID is the server's own.
  const child = spawn(command.file, command.args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${command.file}`);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const spawned: Spawned = {
    name,
    pid: child.pid,
    child,
    output: () => out,
    waitFor: (re, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = re.exec(out);
          if (!match) return;
          done();
          resolve(match);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name} did not print ${re} within ${timeoutMs} ms:\n${out.slice(-2000)}`));
        }, timeoutMs);
        const onExit = () => {
          done();
          reject(new Error(`${name} exited (code ${child.exitCode}) before printing ${re}:\n${out.slice(-2000)}`));
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        if (child.exitCode !== null) onExit();
        else check();
      }),
    stop: async (graceMs = 12_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(spawned);
    },
  };
  running.add(spawned);
  return spawned;
}

/** Stops every process this benchmark spawned that is still running (the last `finally`). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop(3000)));
}

/** User + system CPU seconds of the processes so far (0 for a process that is gone). */
export function cpuSeconds(pids: readonly number[]): number {
  let total = 0;
  for (const seconds of cpuSecondsByPid(pids).values()) total += seconds;
  return total;
}

/** User + system CPU seconds of each process that is still running. */
export function cpuSecondsByPid(pids: readonly number[]): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byPid.set(pid, (Number(fields[11]) + Number(fields[12])) / CLK_TCK);
    } catch {
      // gone
    }
  }
  return byPid;
}

/**
 * CPU seconds the processes used since `before` (a cpuSecondsByPid reading). Only processes
 * running at both readings count: a PostgreSQL backend that ended meanwhile would otherwise
 * subtract its whole life's CPU (its pid reads as gone, i.e. 0, at the end).
 */
export function cpuSecondsSince(before: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const [pid, now] of cpuSecondsByPid([...before.keys()])) total += now - before.get(pid)!;
  return total;
}

/**
 * Seconds the processes' main threads spent runnable but waiting for a CPU (the second field
 * of /proc/<pid>/schedstat): how much other work on the machine delayed them.
 */
export function runqueueWaitSeconds(pids: readonly number[]): number {
  let ns = 0;
  for (const pid of pids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1] ?? 0);
    } catch {
      // gone, or no schedstats in this kernel
    }
  }
  return ns / 1e9;
}

/** Resident set size in bytes, summed over the processes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pids: readonly number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kib += Number(match?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kib * 1024;
}

/** This process's CPU seconds (all threads) since `since` (from process.cpuUsage()). */
export function selfCpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

/** Whether a command is on the PATH. */
export function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

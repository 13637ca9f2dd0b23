// `npm run bench -- --install-peers`: installs the XMPP reference servers from Debian (ejabberd,
// Prosody) and makes sure the system services the packages bring never run during a benchmark:
// the benchmark starts its own copies on free ports, and a service would hold port 5222 and CPU.
// Services are disabled (systemd when it is PID 1, else the SysV links) and any process already
// running as the service's user is stopped by its PID (pidfile first), never by name.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { onPath, sleep } from './procs.js';

const PACKAGES = ['ejabberd', 'prosody'];
/** The Debian services: their system user and the pidfile the package's configuration names. */
const SERVICES = [
  { name: 'ejabberd', user: 'ejabberd', pidfile: '/run/ejabberd/ejabberd.pid' },
  { name: 'prosody', user: 'prosody', pidfile: '/run/prosody/prosody.pid' },
];

/** Runs a command as root (through `sudo -n` when this process is not root); output goes to ours. */
function asRoot(file: string, args: string[], env: Record<string, string> = {}): void {
  const root = process.getuid?.() === 0;
  if (!root && !onPath('sudo')) throw new Error(`${file} needs root and sudo is not installed`);
  const [cmd, cmdArgs] = root
    ? [file, args]
    : ['sudo', ['-n', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), file, ...args]];
  execFileSync(cmd, cmdArgs, { stdio: 'inherit', env: { ...process.env, ...env } });
}

/** Installs the packages (waiting up to 10 minutes for another apt run's lock), then stops their services. */
export async function installPeers(): Promise<void> {
  process.stdout.write(`install-peers: apt-get install ${PACKAGES.join(' ')}\n`);
  asRoot('apt-get', ['install', '-y', '-o', 'DPkg::Lock::Timeout=600', ...PACKAGES], {
    DEBIAN_FRONTEND: 'noninteractive',
  });
  for (const service of SERVICES) {
    disable(service.name);
    const stopped = await stopServiceProcesses(service);
    process.stdout.write(
      `install-peers: ${service.name} service disabled${stopped > 0 ? `, ${stopped} process(es) stopped` : ', was not running'}\n`,
    );
  }
}

/** Keeps the service from starting at boot (and, under systemd, stops it now). */
function disable(name: string): void {
  try {
    if (existsSync('/run/systemd/system') && onPath('systemctl'))
      asRoot('systemctl', ['disable', '--now', '--quiet', name]);
    else if (onPath('update-rc.d')) asRoot('update-rc.d', [name, 'disable']);
  } catch (err) {
    process.stdout.write(`install-peers: could not disable ${name}: ${(err as Error).message}\n`);
  }
}

/**
 * Stops the service's processes: the pidfile's PID, and every process running as the service's
 * user (ejabberd's service also starts an epmd of its own). SIGTERM, then SIGKILL after 15 s.
 */
async function stopServiceProcesses(service: { user: string; pidfile: string }): Promise<number> {
  const pids = new Set(processesOf(service.user));
  try {
    const pid = Number(readFileSync(service.pidfile, 'utf8').trim());
    if (pid > 0 && processesOf(service.user).includes(pid)) pids.add(pid);
  } catch {
    // no pidfile: the service was not started (e.g. policy-rc.d denied it)
  }
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = performance.now() + 15_000;
  while ([...pids].some(alive) && performance.now() < deadline) await sleep(200);
  for (const pid of pids) if (alive(pid)) signal(pid, 'SIGKILL');
  return pids.size;
}

/** PIDs of the processes whose real user is `user` (none when the user does not exist). */
function processesOf(user: string): number[] {
  let uid: number;
  try {
    uid = Number(
      execFileSync('id', ['-u', user], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    );
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    if (process.getuid?.() === 0) process.kill(pid, name);
    else asRoot('kill', [`-${name.replace('SIG', '')}`, String(pid)]);
  } catch {
    // already gone
  }
}

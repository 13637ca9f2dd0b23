// XMPP servers from Debian as reference points (ejabberd, Prosody): each runs as a child process
// on 127.0.0.1 and a free port with a generated config in a scratch folder, pinned like the other
// targets, and is skipped with a note when not installed (`npm run bench -- --install-peers`
// installs both). Accounts are anonymous (SASL ANONYMOUS: nothing to create up front); an
// account's "token" lists the MUC rooms its socket joins. A room is a MUC room, created by its
// first joiner; a DM is a MUC room of two (a 1:1 `chat` message is not reflected to its
// sender, and the ladder counts the sender's own copy); typing is a XEP-0085 chat state and
// presence a `show` sent to the rooms (bench/lib/xmpp-socket.ts).
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MUC_DOMAIN, XMPP_DOMAIN, ejabberdYml, prosodyCfg } from '../lib/xmpp-config.js';
import { onPath } from '../lib/procs.js';
import { type NativeProcess, freePort, spawnNative } from '../lib/xmpp-process.js';
import { type XmppEndpoint, XmppSocket } from '../lib/xmpp-socket.js';
import type { Account, Room, RunningTarget, StartOptions, Target } from './target.js';

/** How one server is found and started. */
interface XmppServer {
  name: string;
  description: string;
  /** Null when it can run here, otherwise what is missing. */
  missing(): string | null;
  launch(dir: string, port: number, cpus: string | undefined): NativeProcess;
}

const EJABBERDCTL = '/usr/sbin/ejabberdctl';

/** Where the Debian package keeps ejabberd's Erlang applications (ejabberdctl sets ERL_LIBS to it). */
function ejabberdLibs(): string | null {
  try {
    const libs = /^ERL_LIBS='?([^'\n]+)'?$/m.exec(readFileSync(EJABBERDCTL, 'utf8'))?.[1];
    return libs && readdirSync(libs).some((d) => d.startsWith('ejabberd-')) ? libs : null;
  } catch {
    return null;
  }
}

const ejabberdServer: XmppServer = {
  name: 'ejabberd',
  description:
    'ejabberd (Debian package, Erlang), XMPP over plain TCP, one MUC room, anonymous SASL; persists nothing (no ' +
    'message archive, in-memory rooms), which flatters it',
  missing: () => (!onPath('erl') || !ejabberdLibs() ? 'ejabberd not installed' : null),
  // Started the way `ejabberdctl foreground` starts it, minus the Erlang distribution (no epmd,
  // no node name): the VM runs ejabberd with the generated config and a Mnesia folder of its own.
  launch(dir, port, cpus) {
    writeFileSync(path.join(dir, 'ejabberd.yml'), ejabberdYml(port));
    const args = ['+K', 'true', '+P', '250000', '-noinput', '-mnesia', 'dir', `"${path.join(dir, 'spool')}"`];
    return spawnNative('ejabberd', 'erl', [...args, '-s', 'ejabberd'], {
      scratchDir: dir,
      cpus,
      env: {
        ERL_LIBS: ejabberdLibs()!,
        EJABBERD_CONFIG_PATH: path.join(dir, 'ejabberd.yml'),
        EJABBERD_LOG_PATH: path.join(dir, 'ejabberd.log'),
        EJABBERD_PID_PATH: path.join(dir, 'ejabberd.pid'),
        ERL_CRASH_DUMP_BYTES: '0',
        ERL_MAX_PORTS: '65536',
        ERL_MAX_ETS_TABLES: '1400',
      },
    });
  },
};

const prosodyServer: XmppServer = {
  name: 'prosody',
  description:
    'Prosody (Debian package, Lua, epoll backend), XMPP over plain TCP, one MUC room, anonymous SASL, in-memory ' +
    'storage; joins cost N² presence',
  missing: () => (onPath('prosody') ? null : 'prosody not installed'),
  launch(dir, port, cpus) {
    mkdirSync(path.join(dir, 'data'));
    mkdirSync(path.join(dir, 'certs'));
    writeFileSync(path.join(dir, 'prosody.cfg.lua'), prosodyCfg(port, dir));
    return spawnNative('prosody', 'prosody', ['--config', path.join(dir, 'prosody.cfg.lua')], {
      scratchDir: dir,
      cpus,
      env: {},
    });
  },
};

function xmppTarget(server: XmppServer): Target {
  return {
    name: server.name,
    description: server.description,
    unavailable: async () => {
      const missing = server.missing();
      return missing ? `${missing}: skipped (npm run bench -- --install-peers installs it)` : null;
    },
    start: (options) => start(server, options),
  };
}

async function start(server: XmppServer, options: StartOptions): Promise<RunningTarget> {
  const dir = mkdtempSync(path.join(tmpdir(), `bench-${server.name}-`));
  const port = await freePort();
  let proc: NativeProcess | undefined;
  // The process removes its scratch folder once stopped; this covers a launch that failed before.
  const stop = async () => {
    await proc?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    proc = server.launch(dir, port, options.cpus);
    await proc.waitForPort(port, 120_000);
    return running(proc, { port, domain: XMPP_DOMAIN, mucDomain: MUC_DOMAIN }, stop);
  } catch (err) {
    await stop();
    throw err;
  }
}

function running(proc: NativeProcess, endpoint: XmppEndpoint, stop: () => Promise<void>): RunningTarget {
  let nextAccount = 0;
  let nextRoom = 1;
  // Anonymous sign-in: an account is only a unique MUC nickname and the rooms it joins.
  const accounts = (count: number, rooms: string[]): Account[] =>
    Array.from({ length: count }, () => ({ id: `u${nextAccount++}`, token: rooms.join(','), process: 0 }));
  const rooms = (prefix: string, count: number, size: number): Room[] =>
    Array.from({ length: count }, () => {
      const id = `${prefix}${nextRoom++}`;
      return { id, members: accounts(size, [id]) };
    });
  // The members' room (fan-out) gets a new name once every socket seated in it has closed.
  // ejabberd destroys a temporary room when its last occupant leaves; joins sent while the
  // previous fan-out's room was still being emptied (its ladder had overloaded the server, which
  // still held ~490 of its 500 sockets) got no reply at all: the next size's first connect batch
  // (50 joins) waited out the 120 s setup limit with the server idle. The same joins to a new
  // room name, or 15 s later, all went through.
  let generation = 1;
  let seated = 0;
  const seat = (socket: XmppSocket) => {
    seated++;
    socket.whenClosed(() => {
      if (--seated === 0) target.room = `bench${++generation}`;
    });
  };
  const connect = async (account: Account) => {
    const joins = account.token ? account.token.split(',') : [];
    const socket = await XmppSocket.open(endpoint, account.id, joins);
    if (joins.includes(target.room)) seat(socket);
    return socket;
  };
  const target: RunningTarget = {
    pids: [proc.pid],
    room: `bench${generation}`,
    createMembers: async (count) => accounts(count, [target.room]),
    createLoners: async (count) => accounts(count, []),
    createRooms: async (count, size) => rooms('room', count, size),
    createDmPairs: async (count) => rooms('dm', count, 2),
    connect,
    auxPids: async () => [],
    stop,
  };
  return target;
}

export const ejabberd = xmppTarget(ejabberdServer);
export const prosody = xmppTarget(prosodyServer);

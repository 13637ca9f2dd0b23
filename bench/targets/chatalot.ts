// Chatalot behind the target interface: the real server entry point (apps/server/src/main.ts,
// as `npm start -w @chatalot/server` runs it) on SQLite, on PostgreSQL, or as two processes
// sharing PostgreSQL and Redis. The room is the #general channel of a public group in a
// community; everything a user does is done over REST or the gateway, except creating the
// accounts themselves (an Argon2 hash each) and seeding long histories, which go straight into
// the database. Further rooms and DMs are places of their own (chatalot-places.ts).
import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { GatewaySocket } from '../lib/gateway-socket.js';
import { type Spawned, spawnNode } from '../lib/procs.js';
import { seedHistory } from '../lib/history-seed.js';
import { fakeIp, Rest } from '../lib/rest.js';
import { Places } from './chatalot-places.js';
import type { DatabaseLocation, RunningTarget, ServerAccess, StartOptions, Target } from './target.js';

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Argon2id of "test password 1" (as in apps/server/src/test-support/users.ts): nobody signs in with it. */
const PASSWORD_HASH =
  '$argon2id$v=19$m=65536,t=3,p=4$05nQv9SV7ehiJHK5YpAtZw$VYmcnCrISyOZH1caaen6iWfgnEqpOHVxkKqxSgrPwEY';
/** Access tokens live 15 minutes (apps/server/src/auth/tokens.ts); a target run is shorter. */
const TOKEN_TTL_SECS = 15 * 60;

interface Variant {
  name: string;
  description: string;
  database: 'sqlite' | 'postgres';
  processes: 1 | 2;
}

export const chatalot = chatalotTarget({
  name: 'chatalot',
  description: 'one process, SQLite (WAL, synchronous=FULL), in-process broker',
  database: 'sqlite',
  processes: 1,
});
export const chatalotPg = chatalotTarget({
  name: 'chatalot-pg',
  description: 'one process, PostgreSQL (fresh database), in-process broker',
  database: 'postgres',
  processes: 1,
});
export const chatalot2proc = chatalotTarget({
  name: 'chatalot-2proc',
  description: 'two processes, PostgreSQL + Redis broker/state, sockets split across them',
  database: 'postgres',
  processes: 2,
});

/** A spawned Chatalot server process (also used by the http scenario). */
export async function startChatalotProcess(
  name: string,
  env: Record<string, string>,
  cpus: string | undefined,
  nodeFlags: string[] = [],
): Promise<{ proc: Spawned; url: string }> {
  const proc = spawnNode(name, [...nodeFlags, '--import', 'tsx', 'apps/server/src/main.ts'], {
    env: { LISTEN_ADDR: '127.0.0.1:0', LOG_LEVEL: 'warn', ...env },
    cpus,
  });
  try {
    const [, url] = await proc.waitFor(/is running at (http:\/\/\S+)/, 120_000);
    return { proc, url: url! };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

async function postgresReachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return `PostgreSQL not reachable at ${PG_ADMIN_URL}: ${(err as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redisReachable(): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = netConnect(6379, '127.0.0.1');
    const timer = setTimeout(() => done('timeout'), 3000);
    const done = (problem: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem === null ? null : `Redis not reachable at ${REDIS_URL}: ${problem}`);
    };
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG') ? null : d.toString().trim()));
    socket.once('error', (err) => done(err.message));
  });
}

interface AccountRow {
  userId: string;
  username: string;
  sessionId: string;
  passwordHash: string;
}

/** Accounts and sessions written straight into the server's database (no Argon2 per user). */
interface AccountStore {
  insert(rows: AccountRow[]): Promise<void>;
  close(): Promise<void>;
}

function sqliteStore(file: string): AccountStore {
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  const user = db.prepare(
    `INSERT INTO users (id, username, username_lower, display_name, password_hash, recovery_code_hash, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'x', ?, ?)`,
  );
  const session = db.prepare(
    `INSERT INTO sessions (id, user_id, device_name, created_at, last_used_at) VALUES (?, ?, 'bench', ?, ?)`,
  );
  const insertAll = db.transaction((rows: AccountRow[], now: number) => {
    for (const r of rows) {
      user.run(r.userId, r.username, r.username.toLowerCase(), r.username, r.passwordHash, now, now);
      session.run(r.sessionId, r.userId, now, now);
    }
  });
  return {
    insert: async (rows) => void insertAll(rows, Date.now()),
    close: async () => void db.close(),
  };
}

async function postgresStore(url: string): Promise<AccountStore> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    insert: async (rows) => {
      const now = Date.now();
      for (let i = 0; i < rows.length; i += 1000) {
        const batch = rows.slice(i, i + 1000);
        const ids = batch.map((r) => r.userId);
        const names = batch.map((r) => r.username);
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO users (id, username, username_lower, display_name, password_hash, recovery_code_hash, created_at, updated_at)
           SELECT id, name, lower(name), name, hash, 'x', $4, $4
           FROM unnest($1::text[], $2::text[], $3::text[]) AS t(id, name, hash)`,
          [ids, names, batch.map((r) => r.passwordHash), now],
        );
        await client.query(
          `INSERT INTO sessions (id, user_id, device_name, created_at, last_used_at)
           SELECT sid, uid, 'bench', $3, $3 FROM unnest($1::text[], $2::text[]) AS t(sid, uid)`,
          [batch.map((r) => r.sessionId), ids, now],
        );
        await client.query('COMMIT');
      }
    },
    close: () => client.end(),
  };
}

/** An access token exactly like AccessTokens.issue makes (EdDSA JWT, iss/aud "chatalot"). */
function accessToken(key: KeyObject, userId: string, sessionId: string): string {
  const iat = Math.floor(Date.now() / 1000);
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${part({ alg: 'EdDSA', typ: 'JWT' })}.${part({
    sid: sessionId,
    typ: 'access',
    iss: 'chatalot',
    aud: 'chatalot',
    sub: userId,
    iat,
    exp: iat + TOKEN_TTL_SECS,
  })}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

function chatalotTarget(variant: Variant): Target {
  return {
    name: variant.name,
    description: variant.description,
    async unavailable() {
      if (variant.database === 'postgres') {
        const problem = await postgresReachable();
        if (problem) return problem;
      }
      if (variant.processes > 1) return redisReachable();
      return null;
    },
    async start(options: StartOptions): Promise<RunningTarget> {
      const dataDir = mkdtempSync(path.join(tmpdir(), `${variant.name}-bench-`));
      const keyDir = path.join(dataDir, 'bench-jwt');
      mkdirSync(keyDir, { mode: 0o700 });
      const keys = generateKeyPairSync('ed25519');
      const privatePath = path.join(keyDir, 'jwt_private.pem');
      const publicPath = path.join(keyDir, 'jwt_public.pem');
      writeFileSync(privatePath, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      writeFileSync(publicPath, keys.publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o600 });

      const procs: Spawned[] = [];
      let store: AccountStore | undefined;
      let dbName: string | undefined;
      const cleanup = async () => {
        await store?.close().catch(() => undefined);
        // Stopped one after the other: both flush to the same database and Redis.
        for (const p of procs.reverse()) await p.stop();
        if (dbName) {
          const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
          await admin.connect();
          await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).finally(() => admin.end());
        }
        rmSync(dataDir, { recursive: true, force: true });
      };

      try {
        const env: Record<string, string> = {
          DATA_DIR: dataDir,
          JWT_PRIVATE_KEY_PATH: privatePath,
          JWT_PUBLIC_KEY_PATH: publicPath,
        };
        let databaseUrl: string | undefined;
        if (variant.database === 'postgres') {
          dbName = `chatalot_bench_${Date.now()}_${process.pid}`;
          const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
          await admin.connect();
          await admin.query(`CREATE DATABASE ${dbName}`).finally(() => admin.end());
          databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
          env.DATABASE_URL = databaseUrl;
        }
        if (variant.processes > 1) env.REDIS_URL = REDIS_URL;

        // One after the other: the first creates the schema and the generated secrets they share.
        const urls: string[] = [];
        for (let i = 0; i < variant.processes; i++) {
          const started = await startChatalotProcess(`${variant.name}#${i}`, env, options.cpus, options.nodeFlags);
          procs.push(started.proc);
          urls.push(started.url);
        }
        const database: DatabaseLocation = databaseUrl
          ? { kind: 'postgres', url: databaseUrl }
          : { kind: 'sqlite', file: path.join(dataDir, 'chatalot.db') };
        store = database.kind === 'postgres' ? await postgresStore(database.url) : sqliteStore(database.file);

        // The place, over REST as a person would: the first account owns the instance.
        const rests = urls.map((u) => new Rest(u));
        const owner = await rests[0]!.call<{ user: { id: string }; access_token: string }>(
          'POST',
          '/api/auth/register',
          { body: { username: 'bench-owner', password: 'bench owner passphrase 7f3a' }, from: fakeIp(1) },
        );
        const places = new Places(rests, owner.access_token);
        const main = await places.create('Bench');

        let next = 0;
        const createAccounts = async (kind: string, count: number, passwordHash = PASSWORD_HASH) => {
          const rows = Array.from({ length: count }, () => ({
            userId: randomUUID(),
            username: `bench-${kind}-${next++}`,
            sessionId: randomUUID(),
            passwordHash,
          }));
          await store!.insert(rows);
          return rows.map((r, i) => ({
            id: r.userId,
            username: r.username,
            token: accessToken(keys.privateKey, r.userId, r.sessionId),
            process: i % variant.processes,
          }));
        };
        const server: ServerAccess = {
          baseUrl: urls[0]!,
          database,
          async createPasswordAccounts(count) {
            const password = 'bench login passphrase 4b1d';
            // Hashed by the server's own code, so the cost of a verify is the server's (loaded
            // here only: the native Argon2 module has no business in other scenarios' generator).
            const { hashPassword } = await import('../../apps/server/src/auth/passwords.js');
            const passwordHash = await hashPassword(password);
            const accounts = await createAccounts('login', count, passwordHash);
            return { usernames: accounts.map((a) => a.username), password, passwordHash };
          },
          async seedHistory(count) {
            const [room] = await places.rooms(1, 1, await createAccounts('reader', 1));
            const t0 = performance.now();
            await seedHistory(database, { channelId: room!.id, senderId: room!.members[0]!.id, count });
            return { channelId: room!.id, reader: room!.members[0]!, seedSeconds: (performance.now() - t0) / 1000 };
          },
        };
        const wsUrls = urls.map((u) => `${u.replace(/^http/, 'ws')}/ws`);

        return {
          pids: procs.map((p) => p.pid),
          room: main.channelId,
          async createMembers(count) {
            const accounts = await createAccounts('member', count);
            await places.join(main, accounts);
            return accounts;
          },
          createRooms: async (count, size) => places.rooms(count, size, await createAccounts('room', count * size)),
          createDmPairs: async (count) => places.dmPairs(await createAccounts('dm', count * 2)),
          server,
          createLoners: (count) => createAccounts('loner', count),
          connect: (account) => GatewaySocket.open(wsUrls[account.process]!, account.token),
          async auxPids() {
            if (!dbName) return [];
            const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
            await admin.connect();
            try {
              const { rows } = await admin.query<{ pid: number }>(
                'SELECT pid FROM pg_stat_activity WHERE datname = $1',
                [dbName],
              );
              return rows.map((r) => r.pid);
            } finally {
              await admin.end();
            }
          },
          stop: cleanup,
        };
      } catch (err) {
        await cleanup().catch(() => undefined);
        throw err;
      }
    },
  };
}

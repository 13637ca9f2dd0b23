// login: Argon2id sign-ins per second through the real POST /api/auth/login (accounts with a
// hash made by the server's own code, so its parameters), closed loop, against raw Argon2id
// verifies at the same concurrency in a process of its own on the same CPUs
// (lib/argon2-raw.ts), half of it before and half after the route. Goal: ≥ 90% of raw. Logins rotate over many accounts and come from
// 1,000 client addresses (X-Forwarded-For), so the per-IP auth bucket (10, +5/s) and the login
// throttle (which only counts failures) are not what is measured.
import { runLoad } from '../load.js';
import { childResult } from '../lib/child-result.js';
import { cpuSeconds } from '../lib/procs.js';
import { round } from '../lib/stats.js';
import type { RunningTarget } from '../targets/target.js';

export const LOGIN_CONCURRENCY = 8;
export const LOGIN_GOAL = 0.9;
const ACCOUNTS = 200;
const CLIENTS = 1000;

/** What lib/argon2-raw.ts prints. */
interface RawRun {
  verifies: number;
  seconds: number;
  perSecond: number;
  cpuMsPerVerify: number;
}

export interface LoginResult {
  concurrency: number;
  server: {
    logins: number;
    perSecond: number;
    p50Ms: number;
    p99Ms: number;
    errors: number;
    cpuMsPerLogin: number | null;
  };
  raw: { verifies: number; perSecond: number; cpuMsPerVerify: number };
  ratio: number | null;
}

export async function runLogin(
  target: RunningTarget,
  options: { seconds: number; cpus: string | undefined },
): Promise<LoginResult> {
  const server = target.server;
  if (!server) throw new Error('login needs a Chatalot target');
  const { usernames, password, passwordHash } = await server.createPasswordAccounts(ACCOUNTS);
  const load = {
    method: 'POST' as const,
    clients: CLIENTS,
    body: (n: number) => JSON.stringify({ username: usernames[n % usernames.length], password, device_name: 'bench' }),
  };
  const url = `${server.baseUrl}/api/auth/login`;
  // Raw verifies half before and half after the route, so a change in the machine's other load
  // during the scenario weighs on both sides alike.
  const rawHalf = () =>
    childResult<RawRun>(
      'argon2-raw',
      'bench/lib/argon2-raw.ts',
      { hash: passwordHash, password, concurrency: LOGIN_CONCURRENCY, seconds: options.seconds / 2 },
      options.cpus,
      60_000,
    );
  const before = await rawHalf();
  await runLoad(url, LOGIN_CONCURRENCY, 1, load); // warm-up
  const cpu0 = cpuSeconds(target.pids);
  const r = await runLoad(url, LOGIN_CONCURRENCY, options.seconds, load);
  const cpu = cpuSeconds(target.pids) - cpu0;
  if (r.errors > 0) process.stdout.write(`  login: errors ${JSON.stringify(r.errorCodes)}\n`);
  const after = await rawHalf();
  const verifies = before.verifies + after.verifies;
  const raw = {
    verifies,
    perSecond: verifies / (before.seconds + after.seconds),
    cpuMsPerVerify: (before.cpuMsPerVerify * before.verifies + after.cpuMsPerVerify * after.verifies) / verifies,
  };
  const ratio = raw.perSecond > 0 ? round(r.perSecond / raw.perSecond, 2) : null;
  process.stdout.write(
    `  login: ${r.perSecond.toFixed(1)}/s through the route (p99 ${r.p99Ms.toFixed(0)} ms), ` +
      `${raw.perSecond.toFixed(1)}/s raw verify: ${ratio}\n`,
  );
  return {
    concurrency: LOGIN_CONCURRENCY,
    server: {
      logins: r.requests,
      perSecond: round(r.perSecond, 1)!,
      p50Ms: round(r.p50Ms, 1)!,
      p99Ms: round(r.p99Ms, 1)!,
      errors: r.errors,
      cpuMsPerLogin: r.requests > 0 ? round((cpu * 1000) / r.requests, 1) : null,
    },
    raw: { verifies: raw.verifies, perSecond: round(raw.perSecond, 1)!, cpuMsPerVerify: round(raw.cpuMsPerVerify, 1)! },
    ratio,
  };
}

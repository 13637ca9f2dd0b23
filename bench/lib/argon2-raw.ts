// The login scenario's floor, run as a child process on the server's CPUs:
//   node --import tsx bench/lib/argon2-raw.ts '<json>'
// with {"hash": PHC, "password": string, "concurrency": n, "seconds": s}. Verifies the
// password against the hash with the server's own code (apps/server/src/auth/passwords.ts:
// @node-rs/argon2 on libuv's thread pool, the parameters in the hash), `concurrency` at a time
// for `seconds` after a short warm-up, and prints one line `result {json}`.
import { verifyPassword } from '../../apps/server/src/auth/passwords.js';

interface Args {
  hash: string;
  password: string;
  concurrency: number;
  seconds: number;
}

async function closedLoop(args: Args, seconds: number): Promise<{ verifies: number; seconds: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let verifies = 0;
  await Promise.all(
    Array.from({ length: args.concurrency }, async () => {
      while (performance.now() < deadline) {
        if (!(await verifyPassword(args.hash, args.password))) throw new Error('the password did not verify');
        verifies++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { verifies, seconds: (performance.now() - started) / 1000, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
await closedLoop(args, 1);
const run = await closedLoop(args, args.seconds);
process.stdout.write(
  `result ${JSON.stringify({
    verifies: run.verifies,
    seconds: run.seconds,
    perSecond: run.verifies / run.seconds,
    cpuMsPerVerify: run.cpuMs / Math.max(1, run.verifies),
  })}\n`,
);

import { readFileSync } from 'node:fs';
import { hash, verify } from '@node-rs/argon2';
import { AppError } from '../errors.js';

/** Argon2id with the parameters PRODUCT.md §2 fixes: 64 MiB, 3 passes, 4 lanes. */
// `Algorithm` is an ambient const enum that isolated modules cannot inline: Argon2id is 2.
const ARGON2ID = 2;
const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 65536, timeCost: 3, parallelism: 4 } as const;

const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.toLowerCase()),
);

/** Hashes a password into a PHC string (`$argon2id$v=19$m=65536,t=3,p=4$…`). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

/** Verifies a password against a PHC string; false (never a throw) for a malformed hash. */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}

/**
 * A hash of a random password, computed once: verifying against it costs exactly what
 * verifying a real user's password costs, so an unknown username takes as long as a wrong
 * password and sign-in reveals nothing about which accounts exist.
 */
let dummyHash: Promise<string> | undefined;
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword(`dummy-${crypto.randomUUID()}`);
  await verifyPassword(await dummyHash, password);
  return false;
}

/** Refuses passwords that are on the common list or equal to the username (`weak_password`). */
export function assertAcceptablePassword(password: string, username: string): void {
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) {
    throw new AppError('weak_password', 'This password is among the most common ones; choose another');
  }
  if (lower === username.toLowerCase()) {
    throw new AppError('weak_password', 'The password must not be the username');
  }
}

import { timingSafeEqual } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';

/**
 * TOTP two-factor codes (RFC 6238) as the product uses them: SHA-1, 6 digits, 30-second steps,
 * accepting the previous and the next step for clock drift. Codes are computed with otpauth;
 * the window, the replay guard and the comparison are done here so that the matched step is
 * known and every candidate is compared in constant time.
 */

/** HMAC algorithms RFC 6238 defines. Only SHA1 is used for accounts; the others are for tests. */
export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

/** Seconds per time step. */
export const TOTP_PERIOD_SECONDS = 30;
/** Digits in a code. */
export const TOTP_DIGITS = 6;
/** Steps accepted either side of the current one. */
export const TOTP_WINDOW = 1;

const SECRET_BYTES = 20;
const ALGORITHM: TotpAlgorithm = 'SHA1';
const CODE_PATTERN = /^[0-9]{6}$/;

/** Returns a new random secret (20 bytes, as RFC 4226 recommends for SHA-1), base32-encoded. */
export function createTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

/**
 * The `otpauth://totp/...` URI authenticator apps import (shown as a QR code), labelled
 * `issuer:accountName`.
 */
export function totpUri(secretBase32: string, accountName: string, issuer = 'Chatalot'): string {
  return new TOTP({
    issuer,
    label: accountName,
    secret: parseSecret(secretBase32),
    algorithm: ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  }).toString();
}

/** The RFC 6238 time step (counter) that `nowMs` falls in. */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The code for `secret` at `unixSeconds`. This is the generation path {@link matchTotp} uses;
 * it is exported so the RFC 6238 test vectors exercise it with any algorithm and length.
 */
export function totpAt(secret: Uint8Array, algorithm: TotpAlgorithm, digits: number, unixSeconds: number): string {
  // Copy into a fresh ArrayBuffer: a Buffer may be a view into a larger shared pool, and
  // otpauth takes the whole underlying buffer.
  const otpSecret = new Secret({ buffer: new Uint8Array(secret).buffer });
  return codeAtStep(otpSecret, algorithm, digits, Math.floor(unixSeconds / TOTP_PERIOD_SECONDS));
}

/**
 * Checks a code someone typed. Returns the time step it matched when it is valid at `nowMs`
 * within ±1 step and that step is later than `lastUsedStep`; otherwise null. The caller must
 * store the returned step as the new `lastUsedStep`, which makes every code single-use and also
 * rejects older codes once a newer one was used. Malformed input yields null, never an error.
 *
 * @throws Error only when `secretBase32` itself is not valid base32 (a server-side bug).
 */
export function matchTotp(
  secretBase32: string,
  code: string,
  nowMs: number,
  lastUsedStep: number | null,
): number | null {
  const secret = parseSecret(secretBase32);
  const typed = typeof code === 'string' ? code.trim() : '';
  if (!CODE_PATTERN.test(typed) || !Number.isFinite(nowMs)) return null;

  const current = totpStep(nowMs);
  let matched: number | null = null;
  // Every candidate is computed and compared (no early exit) so timing does not reveal which
  // step matched. The earliest eligible step wins: it consumes the least of the window.
  for (let step = current + TOTP_WINDOW; step >= current - TOTP_WINDOW; step--) {
    if (step < 0) continue;
    const expected = codeAtStep(secret, ALGORITHM, TOTP_DIGITS, step);
    const equal = timingSafeEqual(Buffer.from(expected), Buffer.from(typed));
    if (equal && (lastUsedStep === null || step > lastUsedStep)) matched = step;
  }
  return matched;
}

/** One HOTP value for a time step: TOTP is HOTP with the step as counter. */
function codeAtStep(secret: Secret, algorithm: TotpAlgorithm, digits: number, step: number): string {
  return HOTP.generate({ secret, algorithm, digits, counter: step });
}

function parseSecret(secretBase32: string): Secret {
  let secret: Secret;
  try {
    secret = Secret.fromBase32(secretBase32);
  } catch {
    throw new Error('TOTP secret is not valid base32');
  }
  if (secret.bytes.length === 0) throw new Error('TOTP secret is empty');
  return secret;
}

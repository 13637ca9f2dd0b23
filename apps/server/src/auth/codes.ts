import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * One-time codes people read and type: 2FA backup codes (`XXXX-XXXX`) and the account recovery
 * code (`XXXX-XXXX-XXXX-XXXX`). The alphabet leaves out 0/O and 1/I so codes can be read back
 * without ambiguity; it has exactly 32 characters, so each character carries 5 bits.
 */

/** The characters codes are made of. */
export const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** Characters in a backup code, without the dash. */
export const BACKUP_CODE_LENGTH = 8;
/** Characters in a recovery code, without dashes. */
export const RECOVERY_CODE_LENGTH = 16;
/** Backup codes handed out when 2FA is enabled or the codes are regenerated. */
export const BACKUP_CODE_COUNT = 8;

const GROUP = 4;
const MAX_BACKUP_CODES = 64;
const MIN_PEPPER_BYTES = 32;
// Domain separation: the pepper is the TOTP encryption key, which also drives the secret box.
const HASH_DOMAIN = 'chatalot/one-time-code/v1\0';
const ALPHABET_SET = new Set(CODE_ALPHABET);

/** `length` random alphabet characters. 32 divides 256, so masking a byte is unbiased. */
function randomChars(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += CODE_ALPHABET[byte & 31];
  return out;
}

/** Splits into dash-separated groups of four for display. */
function group(chars: string): string {
  const groups: string[] = [];
  for (let i = 0; i < chars.length; i += GROUP) groups.push(chars.slice(i, i + GROUP));
  return groups.join('-');
}

/** Returns `count` distinct backup codes formatted `XXXX-XXXX` (40 random bits each). */
export function generateBackupCodes(count = BACKUP_CODE_COUNT): string[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_BACKUP_CODES) {
    throw new RangeError(`Backup code count must be an integer from 1 to ${MAX_BACKUP_CODES}`);
  }
  const codes = new Set<string>();
  while (codes.size < count) codes.add(group(randomChars(BACKUP_CODE_LENGTH)));
  return [...codes];
}

/** Returns a recovery code formatted `XXXX-XXXX-XXXX-XXXX` (80 random bits). */
export function generateRecoveryCode(): string {
  return group(randomChars(RECOVERY_CODE_LENGTH));
}

/**
 * Canonical form of a typed code: upper case, spaces and dashes removed. Returns null when a
 * character is outside the alphabet (confusable characters are not guessed at) or the length
 * is neither a backup code's (8) nor a recovery code's (16).
 */
export function normalizeCode(input: string): string | null {
  if (typeof input !== 'string') return null;
  const chars = input.toUpperCase().replace(/[\s-]+/g, '');
  if (chars.length !== BACKUP_CODE_LENGTH && chars.length !== RECOVERY_CODE_LENGTH) return null;
  for (const char of chars) if (!ALPHABET_SET.has(char)) return null;
  return chars;
}

/**
 * The value stored for a code: hex HMAC-SHA256 keyed with a server-held pepper (the TOTP
 * encryption key). A 40-bit backup code is cheap to brute-force from a plain hash; with the
 * pepper kept outside the database, a database dump alone is not enough.
 *
 * @throws Error when `normalized` is not output of {@link normalizeCode} (it would never match)
 *   or the pepper is shorter than 32 bytes.
 */
export function hashCode(pepper: Uint8Array, normalized: string): string {
  if (!(pepper instanceof Uint8Array) || pepper.length < MIN_PEPPER_BYTES) {
    throw new Error(`Code pepper must be at least ${MIN_PEPPER_BYTES} bytes`);
  }
  if (normalizeCode(normalized) !== normalized) throw new Error('hashCode needs a normalized code');
  const message = new TextEncoder().encode(HASH_DOMAIN + normalized);
  return bytesToHex(hmac(sha256, pepper, message));
}

/** Constant-time string equality (for stored hashes); false when the lengths differ. */
export function codesEqual(a: string, b: string): boolean {
  // UTF-16 code units, not UTF-8: UTF-8 would turn distinct lone surrogates into the same bytes.
  const left = Buffer.from(a, 'utf16le');
  const right = Buffer.from(b, 'utf16le');
  // Only the length can leak, and stored hashes all have the same length.
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}

/**
 * Safety numbers and fingerprints, in the style of Signal's NumericFingerprintGenerator:
 * each party's 30 digits come from 5200 iterations of SHA-512 over (version, identity key,
 * user id); the 60-digit safety number is both halves sorted, so it is the same on both sides.
 */
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { ByteWriter, concat, equalBytes, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';

/** Hash iterations per party (Signal's value). */
export const SAFETY_NUMBER_ITERATIONS = 5200;
const VERSION = Uint8Array.of(0, 0);
const SCANNABLE_VERSION = 1;

function iteratedHash(identityKey: Uint8Array, userId: string): Uint8Array {
  if (identityKey.length !== 32) throw new CryptoError('invalid_key', 'identity key must be 32 bytes');
  let hash = sha512(concat(VERSION, identityKey, utf8(userId)));
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) hash = sha512(concat(hash, identityKey));
  return hash;
}

function digits(hash: Uint8Array): string {
  let out = '';
  for (let off = 0; off < 30; off += 5) {
    // 5 bytes big-endian fits in 2^40 < 2^53.
    let n = 0;
    for (let i = 0; i < 5; i++) n = n * 256 + hash[off + i]!;
    out += (n % 100000).toString().padStart(5, '0');
  }
  return out;
}

/** One party's 30-digit half of a safety number. */
export function displayFingerprint(userId: string, identityKey: Uint8Array): string {
  return digits(iteratedHash(identityKey, userId));
}

/**
 * The 60-digit safety number of two parties, identical whichever side computes it.
 * Display it in 12 groups of 5 digits.
 */
export function safetyNumber(
  a: { userId: string; identityKey: Uint8Array },
  b: { userId: string; identityKey: Uint8Array },
): string {
  const x = displayFingerprint(a.userId, a.identityKey);
  const y = displayFingerprint(b.userId, b.identityKey);
  return x < y ? x + y : y + x;
}

/** Groups a safety number for display: "12345 67890 ...". */
export function formatSafetyNumber(n: string): string {
  return n.match(/.{1,5}/g)?.join(' ') ?? '';
}

/** Short hex fingerprint of an identity key (SHA-256, first 16 bytes, grouped by 4 hex). */
export function fingerprint(identityKey: Uint8Array): string {
  const h = sha256(concat(utf8('chatalot/v1/fingerprint'), identityKey)).slice(0, 16);
  let hex = '';
  for (const x of h) hex += x.toString(16).padStart(2, '0');
  return hex.match(/.{4}/g)!.join(' ');
}

/**
 * Bytes for a QR code: version || own 32-byte hash || their 32-byte hash. The other side
 * checks it with {@link verifyScannableFingerprint}.
 */
export function scannableFingerprint(
  ours: { userId: string; identityKey: Uint8Array },
  theirs: { userId: string; identityKey: Uint8Array },
): Uint8Array {
  return new ByteWriter()
    .u8(SCANNABLE_VERSION)
    .fixed(iteratedHash(ours.identityKey, ours.userId).slice(0, 32))
    .fixed(iteratedHash(theirs.identityKey, theirs.userId).slice(0, 32))
    .finish();
}

/** True when a scanned code (made by the other party) matches our view of both keys. */
export function verifyScannableFingerprint(
  scanned: Uint8Array,
  ours: { userId: string; identityKey: Uint8Array },
  theirs: { userId: string; identityKey: Uint8Array },
): boolean {
  // The scanner's "ours" is the shower's "theirs".
  return equalBytes(scanned, scannableFingerprint(theirs, ours));
}

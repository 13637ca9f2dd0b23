import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from 'node:crypto';

/**
 * Authenticated encryption of small secrets at rest (TOTP secrets) with the instance's 32-byte
 * `TOTP_ENCRYPTION_KEY`.
 *
 * Sealed format, base64url without padding:
 * `version (1 byte, = 1) || nonce (24 random bytes) || XChaCha20-Poly1305 ciphertext + tag`.
 * The associated data is `version || UTF-8(context)`: binding the context (e.g. `totp:<userId>`)
 * means a sealed value copied into another user's row does not open, and binding the version
 * means a future format cannot be confused with this one.
 */

/** Thrown whenever a sealed value cannot be opened, or the key/context are unusable. */
export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

const VERSION = 1;
const KEY_BYTES = 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + NONCE_BYTES;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new SecretBoxError(`Secret box key must be ${KEY_BYTES} bytes`);
  }
}

function checkContext(context: string): void {
  // An empty context would silently drop the row binding, which is the point of the context.
  if (typeof context !== 'string' || context.length === 0) {
    throw new SecretBoxError('Secret box context must be a non-empty string');
  }
}

function associatedData(context: string): Uint8Array {
  return Buffer.concat([Uint8Array.of(VERSION), Buffer.from(context, 'utf8')]);
}

/**
 * Strict base64url decoding: Node's decoder silently skips junk characters, so the input is
 * checked against the alphabet and must re-encode to itself (no alternative spellings).
 */
function decodeBase64url(sealed: string): Uint8Array {
  if (typeof sealed !== 'string' || !BASE64URL.test(sealed)) {
    throw new SecretBoxError('Sealed secret is not base64url');
  }
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.toString('base64url') !== sealed) throw new SecretBoxError('Sealed secret is not canonical base64url');
  return bytes;
}

/**
 * Encrypts `plaintext` under `key` (32 bytes), bound to `context`, with a fresh random nonce.
 * Returns the base64url sealed value to store.
 */
export function sealSecret(key: Uint8Array, plaintext: Uint8Array, context: string): string {
  checkKey(key);
  checkContext(context);
  const nonce = randomBytes(NONCE_BYTES);
  const ciphertext = xchacha20poly1305(key, nonce, associatedData(context)).encrypt(plaintext);
  return Buffer.concat([Uint8Array.of(VERSION), nonce, ciphertext]).toString('base64url');
}

/**
 * Decrypts a value made by {@link sealSecret}. Throws {@link SecretBoxError} on a wrong key,
 * wrong context, unknown version, tampering or malformed input; it never returns unauthenticated
 * bytes.
 */
export function openSecret(key: Uint8Array, sealed: string, context: string): Uint8Array {
  checkKey(key);
  checkContext(context);
  const bytes = decodeBase64url(sealed);
  if (bytes.length < HEADER_BYTES + TAG_BYTES) throw new SecretBoxError('Sealed secret is too short');
  if (bytes[0] !== VERSION) throw new SecretBoxError('Sealed secret has an unknown version');
  const nonce = bytes.subarray(1, HEADER_BYTES);
  const ciphertext = bytes.subarray(HEADER_BYTES);
  try {
    return xchacha20poly1305(key, nonce, associatedData(context)).decrypt(ciphertext);
  } catch {
    // Do not pass on the library's message: every failure means the same thing to the caller.
    throw new SecretBoxError('Sealed secret could not be opened (wrong key, wrong context or tampered)');
  }
}

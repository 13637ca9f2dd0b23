/**
 * Encrypted key backup protected by the recovery passphrase.
 *
 *   key  = scrypt(NFKC(passphrase), salt 16, N, r, p, dkLen 32)
 *   blob = envelope [version][KeyBackup] || log2(N) u8 || r u32 || p u32 || salt 16 || nonce 24
 *          || XChaCha20-Poly1305(key, nonce, payload, AD = label || params || salt)
 *
 * Defaults N = 2^17, r = 8, p = 1 (128 MiB, about a second in JS). Parameters and salt are
 * stored with the blob and authenticated; opening refuses parameters outside a sane range so
 * a hostile blob cannot make the client burn unbounded memory.
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { ByteReader, ByteWriter, concat, lp, utf8 } from './bytes.js';
import { decodeEnvelope, domainLabel, encodeEnvelope, MessageType } from './envelope.js';
import { CryptoError } from './errors.js';
import type { IdentityKeyPair } from './keys.js';
import { ed25519PublicKey, NONCE_LENGTH, type CryptoContext } from './primitives.js';

/** scrypt parameters; `logN` is log2 of the cost N. */
export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

/** Default (strong) parameters for new backups. */
export const DEFAULT_BACKUP_PARAMS: ScryptParams = { logN: 17, r: 8, p: 1 };
/** Lowest accepted cost when creating or opening a backup. */
export const MIN_BACKUP_LOG_N = 15;
const MAX_LOG_N = 20;
const MAX_MEMORY = 256 * 1024 * 1024;

/** What a backup holds. */
export interface KeyBackupPayload {
  userId: string;
  identity: IdentityKeyPair;
  /** Opaque client data (e.g. settings); encrypted with the keys. */
  extra: Uint8Array;
}

function checkParams(p: ScryptParams): void {
  const ok =
    Number.isInteger(p.logN) &&
    p.logN >= MIN_BACKUP_LOG_N &&
    p.logN <= MAX_LOG_N &&
    Number.isInteger(p.r) &&
    p.r >= 8 &&
    p.r <= 32 &&
    Number.isInteger(p.p) &&
    p.p >= 1 &&
    p.p <= 4 &&
    128 * p.r * 2 ** p.logN <= MAX_MEMORY;
  if (!ok) throw new CryptoError('invalid_parameters', 'scrypt parameters out of range');
}

function deriveKey(passphrase: string, salt: Uint8Array, p: ScryptParams): Promise<Uint8Array> {
  return scryptAsync(utf8(passphrase.normalize('NFKC')), salt, {
    N: 2 ** p.logN,
    r: p.r,
    p: p.p,
    dkLen: 32,
    maxmem: MAX_MEMORY + 1024 * 1024,
  });
}

function paramBytes(p: ScryptParams, salt: Uint8Array): Uint8Array {
  return new ByteWriter().u8(p.logN).u32(p.r).u32(p.p).fixed(salt).finish();
}

/** Encrypts the identity (and `extra`) under the passphrase. */
export async function createKeyBackup(
  ctx: CryptoContext,
  passphrase: string,
  payload: KeyBackupPayload,
  params: ScryptParams = DEFAULT_BACKUP_PARAMS,
): Promise<Uint8Array> {
  checkParams(params);
  const salt = ctx.rng(16);
  const key = await deriveKey(passphrase, salt, params);
  const head = paramBytes(params, salt);
  const nonce = ctx.rng(NONCE_LENGTH['xchacha20-poly1305']);
  const plaintext = new ByteWriter()
    .string(payload.userId)
    .fixed(payload.identity.privateKey)
    .bytes(payload.extra)
    .finish();
  const ad = concat(lp(domainLabel(MessageType.KeyBackup)), head);
  const ciphertext = ctx.aead.seal('xchacha20-poly1305', key, nonce, plaintext, ad);
  return encodeEnvelope(MessageType.KeyBackup, concat(head, nonce, ciphertext));
}

/** Reads the parameters of a backup without decrypting it. */
export function backupParams(backup: Uint8Array): ScryptParams {
  const r = new ByteReader(decodeEnvelope(backup, MessageType.KeyBackup));
  return { logN: r.u8(), r: r.u32(), p: r.u32() };
}

/** Opens a backup. Throws `bad_passphrase` when the passphrase (or the blob) is wrong. */
export async function restoreKeyBackup(
  ctx: CryptoContext,
  passphrase: string,
  backup: Uint8Array,
): Promise<KeyBackupPayload> {
  const r = new ByteReader(decodeEnvelope(backup, MessageType.KeyBackup));
  const params: ScryptParams = { logN: r.u8(), r: r.u32(), p: r.u32() };
  checkParams(params);
  const salt = r.fixed(16);
  const nonce = r.fixed(NONCE_LENGTH['xchacha20-poly1305']);
  const ciphertext = r.rest();
  const key = await deriveKey(passphrase, salt, params);
  const ad = concat(lp(domainLabel(MessageType.KeyBackup)), paramBytes(params, salt));
  let plaintext: Uint8Array;
  try {
    plaintext = ctx.aead.open('xchacha20-poly1305', key, nonce, ciphertext, ad);
  } catch (cause) {
    throw new CryptoError('bad_passphrase', 'wrong passphrase or corrupted backup', { cause });
  }
  const p = new ByteReader(plaintext);
  const userId = p.string();
  const privateKey = p.fixed(32);
  const extra = p.bytes();
  p.end();
  return { userId, identity: { privateKey, publicKey: ed25519PublicKey(privateKey) }, extra };
}

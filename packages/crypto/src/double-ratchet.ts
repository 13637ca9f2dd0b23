/**
 * The Double Ratchet (Signal spec, "with header in the clear but authenticated").
 *
 * - Root KDF: HKDF-SHA256(ikm = DH output, salt = root key, info = label) -> 64 bytes
 *   = new root key || chain key.
 * - Chain KDF: message key = HMAC-SHA256(ck, 0x01), next chain key = HMAC-SHA256(ck, 0x02).
 * - Message key -> HKDF-SHA256 -> 32-byte ChaCha20-Poly1305 key || 12-byte nonce. Every message
 *   key is used once, so (key, nonce) never repeats as long as state is never rolled back.
 * - AEAD associated data = label || X3DH AD || prekey header (if any) || ratchet header.
 * - At most MAX_SKIP skipped keys per chain step, at most MAX_STORED_SKIPPED kept (oldest
 *   evicted), each expiring after `skippedKeyTtlMs`.
 *
 * All functions are pure: they return a new state and never mutate their input, so callers
 * can commit state only after successful authentication.
 */
import { ByteReader, ByteWriter, concat, equalBytes, lp } from './bytes.js';
import { KdfLabel } from './envelope.js';
import { CryptoError } from './errors.js';
import { dh, generateX25519KeyPair, hkdfSha256, hmacSha256, type CryptoContext, type KeyPair } from './primitives.js';

/** Maximum number of message keys skipped in one chain step. */
export const MAX_SKIP = 1000;
/** Maximum number of skipped message keys stored per session. */
export const MAX_STORED_SKIPPED = 2000;
/** Default lifetime of a skipped message key. */
export const DEFAULT_SKIPPED_KEY_TTL_MS = 30 * 24 * 3600 * 1000;
const PREVIOUS_RATCHETS_KEPT = 8;

export interface SkippedKey {
  ratchetKey: Uint8Array;
  index: number;
  messageKey: Uint8Array;
  expiresAt: number;
}

/** Serializable Double Ratchet state. */
export interface RatchetState {
  rootKey: Uint8Array;
  sendingRatchet: KeyPair;
  receivingRatchet: Uint8Array | null;
  sendingChain: Uint8Array | null;
  receivingChain: Uint8Array | null;
  sendIndex: number;
  receiveIndex: number;
  previousSendCount: number;
  skipped: SkippedKey[];
  /** Receiving ratchet keys we have moved past (duplicate detection). */
  previousReceivingRatchets: Uint8Array[];
  /** X3DH associated data, bound into every message. */
  associatedData: Uint8Array;
}

/** The clear (authenticated) header of a ratchet message. */
export interface RatchetHeader {
  ratchetKey: Uint8Array;
  previousCount: number;
  index: number;
}

export const HEADER_LENGTH = 40;

export function encodeHeader(h: RatchetHeader): Uint8Array {
  return new ByteWriter().fixed(h.ratchetKey).u32(h.previousCount).u32(h.index).finish();
}

export function decodeHeader(r: ByteReader): RatchetHeader {
  return { ratchetKey: r.fixed(32), previousCount: r.u32(), index: r.u32() };
}

export interface RatchetOptions {
  skippedKeyTtlMs?: number;
}

function kdfRoot(rootKey: Uint8Array, dhOut: Uint8Array): [Uint8Array, Uint8Array] {
  const out = hkdfSha256(dhOut, rootKey, KdfLabel.rootRatchet, 64);
  return [out.slice(0, 32), out.slice(32)];
}

function kdfChain(chainKey: Uint8Array): [Uint8Array, Uint8Array] {
  return [hmacSha256(chainKey, Uint8Array.of(1)), hmacSha256(chainKey, Uint8Array.of(2))];
}

/** Expands a message key into an AEAD key and nonce. */
export function messageKeyMaterial(
  messageKey: Uint8Array,
  info: Uint8Array = KdfLabel.messageKeys,
): { key: Uint8Array; nonce: Uint8Array } {
  const out = hkdfSha256(messageKey, new Uint8Array(32), info, 44);
  return { key: out.slice(0, 32), nonce: out.slice(32) };
}

/** Initial state of the X3DH initiator ("Alice"): can send immediately. */
export function initInitiator(
  ctx: CryptoContext,
  sharedSecret: Uint8Array,
  associatedData: Uint8Array,
  theirRatchetKey: Uint8Array,
): RatchetState {
  const sendingRatchet = generateX25519KeyPair(ctx);
  const [rootKey, sendingChain] = kdfRoot(sharedSecret, dh(sendingRatchet.privateKey, theirRatchetKey));
  return {
    rootKey,
    sendingRatchet,
    receivingRatchet: theirRatchetKey,
    sendingChain,
    receivingChain: null,
    sendIndex: 0,
    receiveIndex: 0,
    previousSendCount: 0,
    skipped: [],
    previousReceivingRatchets: [],
    associatedData,
  };
}

/** Initial state of the X3DH responder ("Bob"): its signed prekey is the first ratchet key. */
export function initResponder(
  sharedSecret: Uint8Array,
  associatedData: Uint8Array,
  signedPreKey: KeyPair,
): RatchetState {
  return {
    rootKey: sharedSecret,
    sendingRatchet: signedPreKey,
    receivingRatchet: null,
    sendingChain: null,
    receivingChain: null,
    sendIndex: 0,
    receiveIndex: 0,
    previousSendCount: 0,
    skipped: [],
    previousReceivingRatchets: [],
    associatedData,
  };
}

function aeadAd(label: Uint8Array, state: RatchetState, extra: Uint8Array, header: Uint8Array): Uint8Array {
  return concat(lp(label), lp(state.associatedData), lp(extra), header);
}

/**
 * Encrypts one message. `label` is the envelope type's domain label; `extra` is additional
 * authenticated data (the prekey header for prekey messages, else empty).
 */
export function ratchetEncrypt(
  ctx: CryptoContext,
  state: RatchetState,
  plaintext: Uint8Array,
  label: Uint8Array,
  extra: Uint8Array,
): { state: RatchetState; header: Uint8Array; ciphertext: Uint8Array } {
  if (!state.sendingChain) throw new CryptoError('invalid_state', 'session cannot send before it has received');
  const s = structuredClone(state);
  const [messageKey, nextChain] = kdfChain(s.sendingChain!);
  const header = encodeHeader({
    ratchetKey: s.sendingRatchet.publicKey,
    previousCount: s.previousSendCount,
    index: s.sendIndex,
  });
  s.sendingChain = nextChain;
  s.sendIndex += 1;
  const { key, nonce } = messageKeyMaterial(messageKey);
  const ciphertext = ctx.aead.seal('chacha20-poly1305', key, nonce, plaintext, aeadAd(label, s, extra, header));
  return { state: s, header, ciphertext };
}

function skipMessageKeys(s: RatchetState, until: number, expiresAt: number): void {
  if (!s.receivingChain || !s.receivingRatchet) return;
  if (until - s.receiveIndex > MAX_SKIP)
    throw new CryptoError('too_many_skipped', `would skip ${until - s.receiveIndex} keys`);
  while (s.receiveIndex < until) {
    const [messageKey, nextChain] = kdfChain(s.receivingChain);
    s.skipped.push({ ratchetKey: s.receivingRatchet, index: s.receiveIndex, messageKey, expiresAt });
    s.receivingChain = nextChain;
    s.receiveIndex += 1;
  }
  if (s.skipped.length > MAX_STORED_SKIPPED) s.skipped.splice(0, s.skipped.length - MAX_STORED_SKIPPED);
}

function dhRatchet(ctx: CryptoContext, s: RatchetState, theirKey: Uint8Array): void {
  if (s.receivingRatchet) {
    s.previousReceivingRatchets.push(s.receivingRatchet);
    if (s.previousReceivingRatchets.length > PREVIOUS_RATCHETS_KEPT) s.previousReceivingRatchets.shift();
  }
  s.previousSendCount = s.sendIndex;
  s.sendIndex = 0;
  s.receiveIndex = 0;
  s.receivingRatchet = theirKey;
  [s.rootKey, s.receivingChain] = kdfRoot(s.rootKey, dh(s.sendingRatchet.privateKey, theirKey));
  s.sendingRatchet = generateX25519KeyPair(ctx);
  [s.rootKey, s.sendingChain] = kdfRoot(s.rootKey, dh(s.sendingRatchet.privateKey, theirKey));
}

/**
 * Decrypts one message. Returns the new state; the input state is untouched, so a failed
 * decryption (any thrown error) leaves nothing to roll back.
 */
export function ratchetDecrypt(
  ctx: CryptoContext,
  state: RatchetState,
  headerBytes: Uint8Array,
  ciphertext: Uint8Array,
  label: Uint8Array,
  extra: Uint8Array,
  opts: RatchetOptions = {},
): { state: RatchetState; plaintext: Uint8Array } {
  const header = decodeHeader(new ByteReader(headerBytes));
  const now = ctx.now();
  const s = structuredClone(state);
  s.skipped = s.skipped.filter((k) => k.expiresAt > now);
  const open = (messageKey: Uint8Array): Uint8Array => {
    const { key, nonce } = messageKeyMaterial(messageKey);
    return ctx.aead.open('chacha20-poly1305', key, nonce, ciphertext, aeadAd(label, s, extra, headerBytes));
  };

  const skippedAt = s.skipped.findIndex((k) => k.index === header.index && equalBytes(k.ratchetKey, header.ratchetKey));
  if (skippedAt >= 0) {
    const plaintext = open(s.skipped[skippedAt]!.messageKey);
    s.skipped.splice(skippedAt, 1);
    return { state: s, plaintext };
  }

  const expiresAt = now + (opts.skippedKeyTtlMs ?? DEFAULT_SKIPPED_KEY_TTL_MS);
  const sameChain = s.receivingRatchet !== null && equalBytes(header.ratchetKey, s.receivingRatchet);
  if (sameChain && header.index < s.receiveIndex) {
    throw new CryptoError('duplicate_message', 'message key already used or expired');
  }
  if (!sameChain) {
    if (s.previousReceivingRatchets.some((k) => equalBytes(k, header.ratchetKey))) {
      throw new CryptoError('duplicate_message', 'message key already used or expired');
    }
    if (equalBytes(header.ratchetKey, s.sendingRatchet.publicKey)) {
      throw new CryptoError('decrypt_failed', 'reflected message');
    }
    skipMessageKeys(s, header.previousCount, expiresAt);
    dhRatchet(ctx, s, header.ratchetKey);
  }
  skipMessageKeys(s, header.index, expiresAt);
  const [messageKey, nextChain] = kdfChain(s.receivingChain!);
  const plaintext = open(messageKey);
  s.receivingChain = nextChain;
  s.receiveIndex += 1;
  return { state: s, plaintext };
}

/**
 * Wire formats of pairwise messages.
 *
 *   RatchetMessage body = ratchet header (40: ratchet key 32, previous count u32, index u32) || ciphertext
 *   PreKeyMessage body  = prekey header || ratchet header || ciphertext
 *   prekey header       = identity key (32) || base key (32) || signed prekey id (u32)
 *                         || flags (u8: 1 = has one-time prekey, 2 = reset) || one-time prekey id (u32)
 *
 * The prekey header is authenticated as AEAD associated data.
 */
import { ByteReader, ByteWriter } from './bytes.js';
import { HEADER_LENGTH } from './double-ratchet.js';
import { decodeEnvelope, encodeEnvelope, MessageType } from './envelope.js';
import { CryptoError } from './errors.js';

export interface PreKeyHeader {
  identityKey: Uint8Array;
  baseKey: Uint8Array;
  signedPreKeyId: number;
  oneTimePreKeyId: number | undefined;
  reset: boolean;
}

export function encodePreKeyHeader(h: PreKeyHeader): Uint8Array {
  const flags = (h.oneTimePreKeyId !== undefined ? 1 : 0) | (h.reset ? 2 : 0);
  return new ByteWriter()
    .fixed(h.identityKey)
    .fixed(h.baseKey)
    .u32(h.signedPreKeyId)
    .u8(flags)
    .u32(h.oneTimePreKeyId ?? 0)
    .finish();
}

const PREKEY_HEADER_LENGTH = 32 + 32 + 4 + 1 + 4;

function decodePreKeyHeader(r: ByteReader): PreKeyHeader {
  const identityKey = r.fixed(32);
  const baseKey = r.fixed(32);
  const signedPreKeyId = r.u32();
  const flags = r.u8();
  const otp = r.u32();
  if (flags & ~3) throw new CryptoError('invalid_message', 'unknown prekey flags');
  return {
    identityKey,
    baseKey,
    signedPreKeyId,
    oneTimePreKeyId: flags & 1 ? otp : undefined,
    reset: (flags & 2) !== 0,
  };
}

export interface ParsedRatchetMessage {
  header: Uint8Array;
  ciphertext: Uint8Array;
}

export interface ParsedPreKeyMessage extends ParsedRatchetMessage {
  preKey: PreKeyHeader;
  /** The raw prekey header bytes, as authenticated. */
  preKeyBytes: Uint8Array;
}

export function encodeRatchetMessage(header: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return encodeEnvelope(MessageType.RatchetMessage, new ByteWriter().fixed(header).fixed(ciphertext).finish());
}

export function encodePreKeyMessage(preKeyBytes: Uint8Array, header: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return encodeEnvelope(
    MessageType.PreKeyMessage,
    new ByteWriter().fixed(preKeyBytes).fixed(header).fixed(ciphertext).finish(),
  );
}

export function decodeRatchetMessage(bytes: Uint8Array): ParsedRatchetMessage {
  const r = new ByteReader(decodeEnvelope(bytes, MessageType.RatchetMessage));
  return { header: r.fixed(HEADER_LENGTH), ciphertext: r.rest() };
}

export function decodePreKeyMessage(bytes: Uint8Array): ParsedPreKeyMessage {
  const body = decodeEnvelope(bytes, MessageType.PreKeyMessage);
  const r = new ByteReader(body);
  const preKey = decodePreKeyHeader(r);
  return {
    preKey,
    preKeyBytes: body.slice(0, PREKEY_HEADER_LENGTH),
    header: r.fixed(HEADER_LENGTH),
    ciphertext: r.rest(),
  };
}

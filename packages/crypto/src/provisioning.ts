/**
 * Linking a new device: the existing device hands the user's identity key to the new one
 * over an ephemeral X25519 exchange, after both display the same 6-digit confirmation code.
 *
 *   1. new      -> existing  ProvisioningRequest  commitment = SHA-256(label || E_new)
 *   2. existing -> new       ProvisioningHello    E_old
 *   3. new      -> existing  ProvisioningReveal   E_new (checked against the commitment)
 *      both: okm = HKDF-SHA256(DH(E_new, E_old), salt = SHA-256(transcript), info = label, 40)
 *            key = okm[0..32], code = u40(okm[32..37]) mod 10^6 -- displayed on both devices
 *   4. existing -> new       ProvisioningMessage  XChaCha20-Poly1305(key, random nonce, payload,
 *                                                 AD = label || transcript)  -- only after the
 *                                                 user confirmed the codes match
 *
 * The commitment stops a relay in the middle from choosing its key after seeing both
 * sides' keys, so it cannot grind for matching codes (success chance 10^-6 per attempt).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ByteReader, ByteWriter, concat, equalBytes, lp } from './bytes.js';
import { decodeEnvelope, domainLabel, encodeEnvelope, KdfLabel, MessageType } from './envelope.js';
import { CryptoError } from './errors.js';
import type { IdentityKeyPair } from './keys.js';
import {
  dh,
  ed25519PublicKey,
  generateX25519KeyPair,
  hkdfSha256,
  NONCE_LENGTH,
  type CryptoContext,
  type KeyPair,
} from './primitives.js';

/** What the new device receives. */
export interface ProvisioningPayload {
  userId: string;
  identity: IdentityKeyPair;
  /** Opaque extra data for the client (e.g. the recovery passphrase hint or device name). */
  extra: Uint8Array;
}

/** New-device state between steps. */
export interface NewDeviceProvisioning {
  ephemeral: KeyPair;
  theirKey?: Uint8Array;
  key?: Uint8Array;
  transcript?: Uint8Array;
}

/** Existing-device state between steps. */
export interface ExistingDeviceProvisioning {
  ephemeral: KeyPair;
  commitment: Uint8Array;
  key?: Uint8Array;
  transcript?: Uint8Array;
}

function commit(pub: Uint8Array): Uint8Array {
  return sha256(concat(lp(domainLabel(MessageType.ProvisioningRequest)), pub));
}

function derive(shared: Uint8Array, transcript: Uint8Array): { key: Uint8Array; code: string } {
  const okm = hkdfSha256(shared, sha256(transcript), KdfLabel.provisioningKeys, 40);
  let n = 0;
  for (let i = 32; i < 37; i++) n = n * 256 + okm[i]!;
  return { key: okm.slice(0, 32), code: (n % 1_000_000).toString().padStart(6, '0') };
}

function transcriptOf(commitment: Uint8Array, oldKey: Uint8Array, newKey: Uint8Array): Uint8Array {
  return new ByteWriter().fixed(commitment).fixed(oldKey).fixed(newKey).finish();
}

function readKey(bytes: Uint8Array, type: MessageType): Uint8Array {
  const r = new ByteReader(decodeEnvelope(bytes, type));
  const k = r.fixed(32);
  r.end();
  return k;
}

/** Step 1 (new device): the request to show as a QR code or send through the server. */
export function createProvisioningRequest(ctx: CryptoContext): { request: Uint8Array; state: NewDeviceProvisioning } {
  const ephemeral = generateX25519KeyPair(ctx);
  return {
    request: encodeEnvelope(MessageType.ProvisioningRequest, commit(ephemeral.publicKey)),
    state: { ephemeral },
  };
}

/** Step 2 (existing device): answers a request. */
export function acceptProvisioningRequest(
  ctx: CryptoContext,
  request: Uint8Array,
): { hello: Uint8Array; state: ExistingDeviceProvisioning } {
  const commitment = readKey(request, MessageType.ProvisioningRequest);
  const ephemeral = generateX25519KeyPair(ctx);
  return {
    hello: encodeEnvelope(MessageType.ProvisioningHello, ephemeral.publicKey),
    state: { ephemeral, commitment },
  };
}

/** Step 3 (new device): reveals its key and returns the code to display. */
export function revealProvisioningKey(
  state: NewDeviceProvisioning,
  hello: Uint8Array,
): { reveal: Uint8Array; code: string } {
  const oldKey = readKey(hello, MessageType.ProvisioningHello);
  const transcript = transcriptOf(commit(state.ephemeral.publicKey), oldKey, state.ephemeral.publicKey);
  const { key, code } = derive(dh(state.ephemeral.privateKey, oldKey), transcript);
  Object.assign(state, { theirKey: oldKey, key, transcript });
  return { reveal: encodeEnvelope(MessageType.ProvisioningReveal, state.ephemeral.publicKey), code };
}

/** Step 3' (existing device): checks the reveal and returns the code to display. */
export function confirmProvisioningKey(state: ExistingDeviceProvisioning, reveal: Uint8Array): { code: string } {
  const newKey = readKey(reveal, MessageType.ProvisioningReveal);
  if (!equalBytes(commit(newKey), state.commitment))
    throw new CryptoError('decrypt_failed', 'reveal does not match the commitment');
  const transcript = transcriptOf(state.commitment, state.ephemeral.publicKey, newKey);
  const { key, code } = derive(dh(state.ephemeral.privateKey, newKey), transcript);
  Object.assign(state, { key, transcript });
  return { code };
}

/** Step 4 (existing device, after the user confirmed matching codes): seals the identity. */
export function sealProvisioningPayload(
  ctx: CryptoContext,
  state: ExistingDeviceProvisioning,
  payload: ProvisioningPayload,
): Uint8Array {
  if (!state.key || !state.transcript) throw new CryptoError('invalid_state', 'confirm the code first');
  const plaintext = new ByteWriter()
    .string(payload.userId)
    .fixed(payload.identity.privateKey)
    .bytes(payload.extra)
    .finish();
  const nonce = ctx.rng(NONCE_LENGTH['xchacha20-poly1305']);
  const ad = concat(lp(domainLabel(MessageType.ProvisioningMessage)), state.transcript);
  const ciphertext = ctx.aead.seal('xchacha20-poly1305', state.key, nonce, plaintext, ad);
  return encodeEnvelope(MessageType.ProvisioningMessage, concat(nonce, ciphertext));
}

/** Step 5 (new device): opens the payload. */
export function openProvisioningPayload(
  ctx: CryptoContext,
  state: NewDeviceProvisioning,
  message: Uint8Array,
): ProvisioningPayload {
  if (!state.key || !state.transcript) throw new CryptoError('invalid_state', 'reveal first');
  const r = new ByteReader(decodeEnvelope(message, MessageType.ProvisioningMessage));
  const nonce = r.fixed(NONCE_LENGTH['xchacha20-poly1305']);
  const ad = concat(lp(domainLabel(MessageType.ProvisioningMessage)), state.transcript);
  const p = new ByteReader(ctx.aead.open('xchacha20-poly1305', state.key, nonce, r.rest(), ad));
  const userId = p.string();
  const privateKey = p.fixed(32);
  const extra = p.bytes();
  p.end();
  return { userId, identity: { privateKey, publicKey: ed25519PublicKey(privateKey) }, extra };
}

/**
 * Linking a device in one message: the existing device seals the identity payload to the new
 * device's ephemeral X25519 key, which the person carried over from the new device's screen
 * (a QR code or a typed code that commits to the key), so no relay in between can substitute
 * its own key. The session id of the relay is bound as associated data: an envelope made for
 * one session does not open in another.
 *
 *   e       = fresh X25519 key pair (existing device)
 *   key     = HKDF-SHA256(DH(e, E_new), salt = e.pub || E_new, info = lp(label) || lp(sessionId), 32)
 *   AD      = lp(label) || lp(sessionId) || e.pub || E_new
 *   message = [1][12] e.pub || nonce(24) || XChaCha20-Poly1305(key, nonce, payload, AD)
 */
import { concat, lp } from './bytes.js';
import { decodeEnvelope, domainLabel, encodeEnvelope, KdfLabel, MessageType } from './envelope.js';
import { CryptoError } from './errors.js';
import {
  dh,
  generateX25519KeyPair,
  hkdfSha256,
  NONCE_LENGTH,
  TAG_LENGTH,
  type CryptoContext,
  type KeyPair,
} from './primitives.js';

const NONCE = NONCE_LENGTH['xchacha20-poly1305'];

function keyAndAd(shared: Uint8Array, sender: Uint8Array, recipient: Uint8Array, sessionId: Uint8Array) {
  const bound = concat(lp(domainLabel(MessageType.LinkEnvelope)), lp(sessionId));
  return {
    key: hkdfSha256(shared, concat(sender, recipient), concat(lp(KdfLabel.linkKey), bound), 32),
    ad: concat(bound, sender, recipient),
  };
}

/** The new device's ephemeral key pair, kept in memory until the envelope arrived. */
export function generateLinkKeyPair(ctx: CryptoContext): KeyPair {
  return generateX25519KeyPair(ctx);
}

/** Seals `payload` to the new device's ephemeral public key for one relay session. */
export function sealLinkEnvelope(
  ctx: CryptoContext,
  recipientPublicKey: Uint8Array,
  sessionId: Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  const e = generateX25519KeyPair(ctx);
  const { key, ad } = keyAndAd(dh(e.privateKey, recipientPublicKey), e.publicKey, recipientPublicKey, sessionId);
  const nonce = ctx.rng(NONCE);
  const ciphertext = ctx.aead.seal('xchacha20-poly1305', key, nonce, payload, ad);
  return encodeEnvelope(MessageType.LinkEnvelope, concat(e.publicKey, nonce, ciphertext));
}

/**
 * Opens an envelope with the new device's ephemeral key pair. Throws `decrypt_failed` when
 * any byte was changed or it was sealed for another key or session.
 */
export function openLinkEnvelope(
  ctx: CryptoContext,
  recipient: KeyPair,
  sessionId: Uint8Array,
  message: Uint8Array,
): Uint8Array {
  const body = decodeEnvelope(message, MessageType.LinkEnvelope);
  if (body.length < 32 + NONCE + TAG_LENGTH) throw new CryptoError('invalid_message', 'link envelope too short');
  const sender = body.subarray(0, 32);
  const nonce = body.subarray(32, 32 + NONCE);
  const { key, ad } = keyAndAd(dh(recipient.privateKey, sender), sender, recipient.publicKey, sessionId);
  return ctx.aead.open('xchacha20-poly1305', key, nonce, body.subarray(32 + NONCE), ad);
}

import { ed25519 } from '@noble/curves/ed25519.js';
import { AppError } from '../errors.js';

const encoder = new TextEncoder();

/** The signed-prekey label, as in packages/crypto (envelope.ts `KdfLabel.signedPreKey`). */
const SIGNED_PREKEY_LABEL = encoder.encode('chatalot/v1/signed-prekey');

/** Bytes of an unpadded base64url string the protocol schema already checked. */
export function fromBase64Url(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value, 'base64url'));
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

/**
 * What the identity key signs for a signed prekey, byte for byte the construction of
 * packages/crypto keys.ts: `lp(label) || u32be(keyId) || publicKey`, lp = u32be length prefix.
 */
export function signedPreKeyMessage(keyId: number, publicKey: Uint8Array): Uint8Array {
  return Buffer.concat([u32be(SIGNED_PREKEY_LABEL.length), SIGNED_PREKEY_LABEL, u32be(keyId), publicKey]);
}

/** Throws `invalid_key` unless `identityKey` is a canonical Ed25519 public key (a point on the curve). */
export function requireIdentityKey(identityKey: string): Uint8Array {
  const bytes = fromBase64Url(identityKey);
  if (bytes.length !== 32 || !ed25519.utils.isValidPublicKey(bytes, false)) {
    throw new AppError('invalid_key', 'identity_key is not a valid Ed25519 public key');
  }
  return bytes;
}

/**
 * Throws `bad_signature` unless the signed prekey is signed by the identity key. Strict
 * RFC 8032 verification (`zip215: false`: canonical encodings only), as the clients verify it.
 */
export function requireSignedPreKey(
  identityKey: string,
  signedPreKey: { key_id: number; public_key: string; signature: string },
): void {
  const identity = requireIdentityKey(identityKey);
  const message = signedPreKeyMessage(signedPreKey.key_id, fromBase64Url(signedPreKey.public_key));
  let valid = false;
  try {
    valid = ed25519.verify(fromBase64Url(signedPreKey.signature), message, identity, { zip215: false });
  } catch {
    valid = false;
  }
  if (!valid)
    throw new AppError('bad_signature', 'The signed prekey’s signature does not verify under the identity key');
}

/**
 * Identity keys and prekeys. One Ed25519 identity key per user (shared by all its devices);
 * its X25519 form is used in X3DH. Each device has its own signed prekey and one-time prekeys.
 */
import { ByteWriter, concat, lp } from './bytes.js';
import { KdfLabel } from './envelope.js';
import {
  assertEd25519PublicKey,
  ed25519PublicKey,
  generateX25519KeyPair,
  sign,
  verifyOrThrow,
  type CryptoContext,
  type KeyPair,
} from './primitives.js';

/** The user's long-term identity key (Ed25519). */
export type IdentityKeyPair = KeyPair;

/** A signed prekey: X25519 key pair signed by the identity key. */
export interface SignedPreKey {
  keyId: number;
  keyPair: KeyPair;
  signature: Uint8Array;
  createdAt: number;
}

/** A one-time prekey, handed out at most once by the server. */
export interface OneTimePreKey {
  keyId: number;
  keyPair: KeyPair;
}

/** What the server hands out for one device (public parts only). */
export interface PreKeyBundle {
  userId: string;
  deviceId: number;
  identityKey: Uint8Array;
  signedPreKey: { keyId: number; publicKey: Uint8Array; signature: Uint8Array };
  oneTimePreKey?: { keyId: number; publicKey: Uint8Array } | undefined;
}

export function generateIdentityKeyPair(ctx: CryptoContext): IdentityKeyPair {
  const privateKey = ctx.rng(32);
  return { privateKey, publicKey: ed25519PublicKey(privateKey) };
}

function signedPreKeyMessage(keyId: number, publicKey: Uint8Array): Uint8Array {
  return concat(lp(KdfLabel.signedPreKey), new ByteWriter().u32(keyId).fixed(publicKey).finish());
}

export function generateSignedPreKey(ctx: CryptoContext, identity: IdentityKeyPair, keyId: number): SignedPreKey {
  const keyPair = generateX25519KeyPair(ctx);
  const signature = sign(identity.privateKey, signedPreKeyMessage(keyId, keyPair.publicKey));
  return { keyId, keyPair, signature, createdAt: ctx.now() };
}

/** Generates `count` one-time prekeys with consecutive ids starting at `firstKeyId`. */
export function generateOneTimePreKeys(ctx: CryptoContext, firstKeyId: number, count: number): OneTimePreKey[] {
  const out: OneTimePreKey[] = [];
  for (let i = 0; i < count; i++) out.push({ keyId: (firstKeyId + i) >>> 0, keyPair: generateX25519KeyPair(ctx) });
  return out;
}

/** Throws `invalid_key` / `bad_signature` unless the bundle's signed prekey is signed by its identity key. */
export function verifyPreKeyBundle(bundle: PreKeyBundle): void {
  assertEd25519PublicKey(bundle.identityKey);
  const spk = bundle.signedPreKey;
  verifyOrThrow(bundle.identityKey, signedPreKeyMessage(spk.keyId, spk.publicKey), spk.signature, 'signed prekey');
}

/** The public bundle of a device from its private keys. */
export function makePreKeyBundle(
  userId: string,
  deviceId: number,
  identity: IdentityKeyPair,
  signedPreKey: SignedPreKey,
  oneTimePreKey?: OneTimePreKey,
): PreKeyBundle {
  return {
    userId,
    deviceId,
    identityKey: identity.publicKey,
    signedPreKey: {
      keyId: signedPreKey.keyId,
      publicKey: signedPreKey.keyPair.publicKey,
      signature: signedPreKey.signature,
    },
    oneTimePreKey: oneTimePreKey
      ? { keyId: oneTimePreKey.keyId, publicKey: oneTimePreKey.keyPair.publicKey }
      : undefined,
  };
}

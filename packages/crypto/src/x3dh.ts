/**
 * X3DH key agreement (Signal spec) with identity keys in Ed25519 form converted to X25519.
 *
 *   DH1 = DH(IK_A, SPK_B)  DH2 = DH(EK_A, IK_B)  DH3 = DH(EK_A, SPK_B)  [DH4 = DH(EK_A, OPK_B)]
 *   SK  = HKDF-SHA256(ikm = 0xFF*32 || DH1 || DH2 || DH3 [|| DH4], salt = 0*32, info = label)
 *   AD  = IK_A || IK_B || address_A || address_B
 *
 * The AD is bound into the AEAD associated data of every message of the session.
 */
import type { ProtocolAddress } from './address.js';
import { ByteWriter, concat } from './bytes.js';
import { KdfLabel } from './envelope.js';
import type { IdentityKeyPair, PreKeyBundle } from './keys.js';
import { verifyPreKeyBundle } from './keys.js';
import {
  dh,
  generateX25519KeyPair,
  hkdfSha256,
  identityDhPrivate,
  identityDhPublic,
  type CryptoContext,
  type KeyPair,
} from './primitives.js';

/** Output of X3DH for either party. */
export interface X3dhResult {
  /** 32-byte shared secret SK (the first root key). */
  sharedSecret: Uint8Array;
  /** Associated data: both identity keys and both addresses, initiator first. */
  associatedData: Uint8Array;
}

/** Initiator output: also what goes in the prekey message header. */
export interface X3dhInitiation extends X3dhResult {
  baseKey: KeyPair;
  signedPreKeyId: number;
  oneTimePreKeyId: number | undefined;
  /** The responder's signed prekey, which becomes the initiator's first ratchet peer key. */
  theirSignedPreKey: Uint8Array;
}

/** Builds the X3DH associated data (initiator first). */
export function x3dhAssociatedData(
  initiatorIdentity: Uint8Array,
  responderIdentity: Uint8Array,
  initiator: ProtocolAddress,
  responder: ProtocolAddress,
): Uint8Array {
  return new ByteWriter()
    .fixed(initiatorIdentity)
    .fixed(responderIdentity)
    .string(initiator.userId)
    .u32(initiator.deviceId)
    .string(responder.userId)
    .u32(responder.deviceId)
    .finish();
}

function kdf(dhs: Uint8Array[]): Uint8Array {
  const f = new Uint8Array(32).fill(0xff);
  return hkdfSha256(concat(f, ...dhs), new Uint8Array(32), KdfLabel.x3dh, 32);
}

/**
 * Runs X3DH as the initiator against a bundle. Verifies the signed prekey signature first
 * (throws `bad_signature`).
 */
export function x3dhInitiate(
  ctx: CryptoContext,
  ours: { identity: IdentityKeyPair; address: ProtocolAddress },
  bundle: PreKeyBundle,
): X3dhInitiation {
  verifyPreKeyBundle(bundle);
  const baseKey = generateX25519KeyPair(ctx);
  const ikA = identityDhPrivate(ours.identity.privateKey);
  const ikB = identityDhPublic(bundle.identityKey);
  const spkB = bundle.signedPreKey.publicKey;
  const dhs = [dh(ikA, spkB), dh(baseKey.privateKey, ikB), dh(baseKey.privateKey, spkB)];
  if (bundle.oneTimePreKey) dhs.push(dh(baseKey.privateKey, bundle.oneTimePreKey.publicKey));
  const responder = { userId: bundle.userId, deviceId: bundle.deviceId };
  return {
    sharedSecret: kdf(dhs),
    associatedData: x3dhAssociatedData(ours.identity.publicKey, bundle.identityKey, ours.address, responder),
    baseKey,
    signedPreKeyId: bundle.signedPreKey.keyId,
    oneTimePreKeyId: bundle.oneTimePreKey?.keyId,
    theirSignedPreKey: spkB,
  };
}

/** Runs X3DH as the responder, with the prekeys named in the prekey message. */
export function x3dhRespond(params: {
  identity: IdentityKeyPair;
  address: ProtocolAddress;
  signedPreKey: KeyPair;
  oneTimePreKey: KeyPair | undefined;
  theirIdentity: Uint8Array;
  theirAddress: ProtocolAddress;
  theirBaseKey: Uint8Array;
}): X3dhResult {
  const ikB = identityDhPrivate(params.identity.privateKey);
  const ikA = identityDhPublic(params.theirIdentity);
  const ek = params.theirBaseKey;
  const dhs = [dh(params.signedPreKey.privateKey, ikA), dh(ikB, ek), dh(params.signedPreKey.privateKey, ek)];
  if (params.oneTimePreKey) dhs.push(dh(params.oneTimePreKey.privateKey, ek));
  return {
    sharedSecret: kdf(dhs),
    associatedData: x3dhAssociatedData(
      params.theirIdentity,
      params.identity.publicKey,
      params.theirAddress,
      params.address,
    ),
  };
}

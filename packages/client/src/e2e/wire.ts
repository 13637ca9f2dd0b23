/** Conversions between the key service's JSON (unpadded base64url) and @chatalot/crypto types. */
import type { OneTimePreKey, PreKeyBundle, SignedPreKey } from '@chatalot/crypto';
import type {
  OneTimePreKey as WireOneTimePreKey,
  PreKeyBundle as WirePreKeyBundle,
  SignedPreKey as WireSignedPreKey,
} from '@chatalot/protocol';
import { fromBase64Url, toBase64Url } from './bytes.js';

export function signedPreKeyToWire(k: SignedPreKey): WireSignedPreKey {
  return { key_id: k.keyId, public_key: toBase64Url(k.keyPair.publicKey), signature: toBase64Url(k.signature) };
}

export function oneTimePreKeyToWire(k: OneTimePreKey): WireOneTimePreKey {
  return { key_id: k.keyId, public_key: toBase64Url(k.keyPair.publicKey) };
}

/** A bundle as @chatalot/crypto wants it (the signature is verified there, not here). */
export function bundleFromWire(userId: string, identityKey: string, b: WirePreKeyBundle): PreKeyBundle {
  return {
    userId,
    deviceId: b.device_id,
    identityKey: fromBase64Url(identityKey, 'identity key'),
    signedPreKey: {
      keyId: b.signed_prekey.key_id,
      publicKey: fromBase64Url(b.signed_prekey.public_key, 'signed prekey'),
      signature: fromBase64Url(b.signed_prekey.signature, 'signature'),
    },
    oneTimePreKey: b.one_time_prekey
      ? { keyId: b.one_time_prekey.key_id, publicKey: fromBase64Url(b.one_time_prekey.public_key, 'one-time prekey') }
      : undefined,
  };
}

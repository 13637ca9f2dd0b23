/**
 * The primitives as this package calls them, and the injectable context (RNG, clock, AEAD).
 * X25519 (RFC 7748), Ed25519 with strict RFC 8032 verification, HKDF-SHA256 (RFC 5869),
 * HMAC-SHA256, ChaCha20-Poly1305 (RFC 8439) and XChaCha20-Poly1305.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError } from './errors.js';

/** Returns `n` cryptographically secure random bytes. */
export type Rng = (n: number) => Uint8Array;
/** Returns the current time in milliseconds since the epoch. */
export type Clock = () => number;

/** The two AEADs used: 12-byte nonces for derived keys, 24-byte nonces for random nonces. */
export type AeadAlgorithm = 'chacha20-poly1305' | 'xchacha20-poly1305';

/**
 * Authenticated encryption. `open` throws {@link CryptoError} `decrypt_failed` on any
 * authentication failure. Injectable so tests can observe every (key, nonce) pair.
 */
export interface Aead {
  seal(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array;
  open(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array;
}

/** Everything with side effects or worth observing, passed explicitly. */
export interface CryptoContext {
  rng: Rng;
  now: Clock;
  aead: Aead;
}

/** Nonce length in bytes of each AEAD. */
export const NONCE_LENGTH: Record<AeadAlgorithm, number> = {
  'chacha20-poly1305': 12,
  'xchacha20-poly1305': 24,
};

/** Poly1305 tag length. */
export const TAG_LENGTH = 16;

/** The AEAD implementation backed by @noble/ciphers. */
export const nobleAead: Aead = {
  seal(alg, key, nonce, plaintext, ad) {
    const c = alg === 'chacha20-poly1305' ? chacha20poly1305 : xchacha20poly1305;
    return c(key, nonce, ad).encrypt(plaintext);
  },
  open(alg, key, nonce, ciphertext, ad) {
    const c = alg === 'chacha20-poly1305' ? chacha20poly1305 : xchacha20poly1305;
    try {
      return c(key, nonce, ad).decrypt(ciphertext);
    } catch (cause) {
      throw new CryptoError('decrypt_failed', 'authentication failed', { cause });
    }
  },
};

/** Secure RNG from the platform (`crypto.getRandomValues`, available in browsers and Node 20+). */
export const secureRng: Rng = (n) => {
  const out = new Uint8Array(n);
  // getRandomValues is limited to 65536 bytes per call.
  for (let off = 0; off < n; off += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  }
  return out;
};

/** The production context; override fields for tests. */
export function defaultContext(overrides: Partial<CryptoContext> = {}): CryptoContext {
  return { rng: secureRng, now: () => Date.now(), aead: nobleAead, ...overrides };
}

/** A key pair: 32-byte private and public keys. */
export interface KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

export function generateX25519KeyPair(ctx: CryptoContext): KeyPair {
  const privateKey = ctx.rng(32);
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(privateKey);
}

/**
 * X25519 with the all-zero output check (RFC 7748 §6.1): a low-order peer key is rejected.
 */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new CryptoError('invalid_key', 'X25519 public key must be 32 bytes');
  try {
    return x25519.getSharedSecret(privateKey, publicKey);
  } catch (cause) {
    throw new CryptoError('invalid_key', 'invalid X25519 public key', { cause });
  }
}

export function generateEd25519KeyPair(ctx: CryptoContext): KeyPair {
  const privateKey = ctx.rng(32);
  return { privateKey, publicKey: ed25519.getPublicKey(privateKey) };
}

export function ed25519PublicKey(privateKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(privateKey);
}

export function sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, privateKey);
}

/** Strict Ed25519 verification (RFC 8032, canonical encodings only, `zip215: false`). */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** Throws `bad_signature` unless {@link verify} accepts. */
export function verifyOrThrow(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, what: string): void {
  if (!verify(publicKey, message, signature)) throw new CryptoError('bad_signature', `${what}: bad signature`);
}

/** The X25519 form of an Ed25519 identity public key (birational map). */
export function identityDhPublic(edPublicKey: Uint8Array): Uint8Array {
  try {
    return ed25519.utils.toMontgomery(edPublicKey);
  } catch (cause) {
    throw new CryptoError('invalid_key', 'invalid Ed25519 public key', { cause });
  }
}

/** The X25519 form of an Ed25519 identity private key (the clamped SHA-512 scalar). */
export function identityDhPrivate(edPrivateKey: Uint8Array): Uint8Array {
  return ed25519.utils.toMontgomerySecret(edPrivateKey);
}

/** Rejects Ed25519 public keys that do not decode to a canonical point. */
export function assertEd25519PublicKey(key: Uint8Array): void {
  if (key.length !== 32 || !ed25519.utils.isValidPublicKey(key, false)) {
    throw new CryptoError('invalid_key', 'invalid Ed25519 public key');
  }
}

export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdf(sha256, ikm, salt, info, length);
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(sha256, key, data);
}

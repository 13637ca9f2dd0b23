/**
 * Every failure raised by `@chatalot/crypto` is a {@link CryptoError} with a stable `code`.
 * Callers switch on `code`; `message` is for logs and never contains key material.
 */
export type CryptoErrorCode =
  /** Bytes could not be parsed (wrong length, truncated, trailing data). */
  | 'invalid_message'
  /** Envelope version byte is not one this library understands. */
  | 'unsupported_version'
  /** A message of one type was presented where another type was expected. */
  | 'wrong_message_type'
  /** AEAD authentication failed: wrong key, tampered ciphertext, header or associated data. */
  | 'decrypt_failed'
  /** An Ed25519 signature did not verify (strict RFC 8032, no ZIP-215 leniency). */
  | 'bad_signature'
  /** A public key is malformed or of low order. */
  | 'invalid_key'
  /** The peer's identity key differs from the trusted one and has not been accepted. */
  | 'untrusted_identity'
  /** A message was already decrypted (its key is gone). */
  | 'duplicate_message'
  /** A message asks to skip more message keys than allowed. */
  | 'too_many_skipped'
  /** No pairwise session exists for the address. */
  | 'no_session'
  /** A prekey message names a signed / one-time prekey we do not hold. */
  | 'missing_prekey'
  /** No sender key (or not that chain) is known for a group sender. */
  | 'no_sender_key'
  /** A chunked file stream ended before its final chunk, or had data after it. */
  | 'file_truncated'
  /** A key backup could not be opened with the given passphrase. */
  | 'bad_passphrase'
  /** Parameters outside the accepted range (e.g. scrypt cost too low or too high). */
  | 'invalid_parameters'
  /** The persisted state is missing or inconsistent. */
  | 'invalid_state';

/** The one error class of this package. */
export class CryptoError extends Error {
  /** Stable machine-readable reason. */
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? code, options);
    this.name = 'CryptoError';
    this.code = code;
  }
}

/** True when `err` is a {@link CryptoError}, optionally with the given code. */
export function isCryptoError(err: unknown, code?: CryptoErrorCode): err is CryptoError {
  return err instanceof CryptoError && (code === undefined || err.code === code);
}

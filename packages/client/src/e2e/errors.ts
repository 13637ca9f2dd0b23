/** Failures of the E2E layer that are not a CryptoError from @chatalot/crypto. */
export type E2EErrorCode =
  /** Bytes from the server or the store are not the canonical encoding. */
  | 'invalid_encoding'
  /** A message body (or its plaintext) does not follow the formats in README.md. */
  | 'invalid_format'
  /** A content or body version this client does not understand. */
  | 'unsupported_version'
  /** Sending is paused: a contact's identity key changed and has not been accepted. */
  | 'untrusted_identity'
  /** The encrypted body would exceed the server's ciphertext limit. */
  | 'too_large'
  /** The account already has an identity key and this device does not hold it: link or restore it. */
  | 'provisioning_required'
  /** The server lists an identity key for our own account other than the one this device holds. */
  | 'own_identity_changed'
  /** The device is not registered (or was removed on the server). */
  | 'not_registered'
  /** Nobody to send to (no device of any member has keys). */
  | 'no_recipients'
  /** A stored value failed authentication or could not be read (tampered or corrupt storage). */
  | 'store_corrupt'
  /** The platform lacks something the store needs (IndexedDB, WebCrypto). */
  | 'unavailable';

export class E2EError extends Error {
  override name = 'E2EError';
  constructor(
    readonly code: E2EErrorCode,
    message?: string,
    /** For `untrusted_identity`: the users whose changed identity must be accepted first. */
    readonly userIds: string[] = [],
  ) {
    super(message ?? code);
  }
}

export function isE2EError(err: unknown, code?: E2EErrorCode): err is E2EError {
  return err instanceof E2EError && (code === undefined || err.code === code);
}

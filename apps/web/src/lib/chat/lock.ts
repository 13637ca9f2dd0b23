/**
 * What the per-message lock says (PRODUCT.md §5): green when the message decrypted and
 * authenticated (with a tick once the sender's safety number was verified), red when it could
 * not be decrypted, with the reason; a failed message never shows as text.
 */
import type { DecryptFailureReason, DecryptResult } from '@chatalot/client';

export type LockState = 'verified' | 'ok' | 'failed' | 'waiting' | 'deleted';

export function lockState(result: DecryptResult): LockState {
  if (result.status === 'ok') return result.verified ? 'verified' : 'ok';
  if (result.status === 'waiting_for_key') return 'waiting';
  return result.reason === 'deleted' ? 'deleted' : 'failed';
}

/** Why a message could not be decrypted, in words. */
export function failureText(reason: DecryptFailureReason): string {
  switch (reason) {
    case 'no_sender_key':
      return 'Its key never reached this device: it was sent before you joined, or before this browser was set up.';
    case 'not_for_this_device':
      return 'It was encrypted for other devices: it was sent before this browser was set up.';
    case 'own_message_not_stored':
      return 'It was sent from this browser, but its text is no longer stored here.';
    case 'untrusted_identity':
      return "The sender's security key changed: review and accept it to read this message.";
    case 'decrypt_failed':
    case 'bad_signature':
      return 'It did not authenticate: it may have been altered, or was not encrypted for you.';
    case 'duplicate_message':
      return 'Its key was already used (this message was decrypted before, and its text was not kept).';
    case 'no_session':
    case 'missing_prekey':
    case 'invalid_state':
      return 'The encryption session it belongs to is not on this device.';
    case 'too_many_skipped':
      return 'Too many messages were missed before it to decrypt it.';
    case 'unsupported_version':
    case 'invalid_format':
    case 'invalid_message':
    case 'wrong_message_type':
    case 'missing_device_id':
    case 'unknown_scheme':
    case 'invalid_encoding':
      return 'It is not in a format this app understands.';
    case 'deleted':
      return 'It was deleted.';
    default:
      return 'It could not be decrypted on this device.';
  }
}

/** The lock's tooltip and accessible name. */
export function lockTitle(result: DecryptResult): string {
  switch (result.status) {
    case 'ok':
      return result.verified
        ? 'Verified: decrypted and authenticated, and you verified this sender’s safety number.'
        : 'Decrypted and authenticated: end-to-end encrypted. Compare safety numbers to verify the sender.';
    case 'waiting_for_key':
      return 'Encrypted: waiting for the sender’s key to reach this device.';
    case 'failed':
      return `Could not be decrypted (${result.reason}). ${failureText(result.reason)}`;
  }
}

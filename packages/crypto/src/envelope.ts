/**
 * Versioned binary envelopes. Every serialized object starts with `[version][type]`, and
 * every message type has its own domain-separation label that is bound into the AEAD
 * associated data, KDF info or signature input of that type. A message of one type is
 * therefore rejected as another twice over: the type byte is checked, and even a rewritten
 * type byte would make authentication fail under the other label.
 */
import { concat, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';

/** Current envelope version. */
export const ENVELOPE_VERSION = 1;

/** Type codes of the envelope's second byte. */
export const MessageType = {
  PreKeyMessage: 1,
  RatchetMessage: 2,
  SenderKeyMessage: 3,
  SenderKeyDistribution: 4,
  ProvisioningRequest: 5,
  ProvisioningHello: 6,
  ProvisioningMessage: 7,
  KeyBackup: 8,
  FileStream: 9,
  PairwiseApplication: 10,
  ProvisioningReveal: 11,
  LinkEnvelope: 12,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const LABELS: Record<MessageType, string> = {
  1: 'chatalot/v1/prekey-message',
  2: 'chatalot/v1/ratchet-message',
  3: 'chatalot/v1/sender-key-message',
  4: 'chatalot/v1/sender-key-distribution',
  5: 'chatalot/v1/provisioning-request',
  6: 'chatalot/v1/provisioning-hello',
  7: 'chatalot/v1/provisioning-message',
  8: 'chatalot/v1/key-backup',
  9: 'chatalot/v1/file-chunk',
  10: 'chatalot/v1/pairwise-application',
  11: 'chatalot/v1/provisioning-reveal',
  12: 'chatalot/v1/link-envelope',
};

/** The domain-separation label of a message type, as bytes (length-prefixed when bound). */
export function domainLabel(type: MessageType): Uint8Array {
  return utf8(LABELS[type]);
}

/** Labels for derivations that are not message types (KDF info strings). */
export const KdfLabel = {
  x3dh: utf8('chatalot/v1/x3dh'),
  rootRatchet: utf8('chatalot/v1/root-ratchet'),
  messageKeys: utf8('chatalot/v1/message-keys'),
  senderMessageKeys: utf8('chatalot/v1/sender-message-keys'),
  signedPreKey: utf8('chatalot/v1/signed-prekey'),
  provisioningKeys: utf8('chatalot/v1/provisioning-keys'),
  fileKeys: utf8('chatalot/v1/file-keys'),
  backupKey: utf8('chatalot/v1/backup-key'),
  linkKey: utf8('chatalot/v1/link-key'),
} as const;

/** Prefixes `body` with the version and type bytes. */
export function encodeEnvelope(type: MessageType, body: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(ENVELOPE_VERSION, type), body);
}

/** Reads the header of an envelope without checking the type. */
export function peekEnvelopeType(bytes: Uint8Array): MessageType {
  if (bytes.length < 2) throw new CryptoError('invalid_message', 'envelope too short');
  if (bytes[0] !== ENVELOPE_VERSION) throw new CryptoError('unsupported_version', `envelope version ${bytes[0]}`);
  const t = bytes[1]!;
  if (!(t in LABELS)) throw new CryptoError('invalid_message', `unknown envelope type ${t}`);
  return t as MessageType;
}

/**
 * Checks version and type and returns the body. Throws `wrong_message_type` when the envelope
 * holds another type than `expected`.
 */
export function decodeEnvelope(bytes: Uint8Array, expected: MessageType): Uint8Array {
  const t = peekEnvelopeType(bytes);
  if (t !== expected) {
    throw new CryptoError('wrong_message_type', `expected ${LABELS[expected]}, got ${LABELS[t]}`);
  }
  return bytes.slice(2);
}

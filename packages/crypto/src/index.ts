/**
 * @chatalot/crypto — end-to-end encryption for Chatalot: X3DH + Double Ratchet for pairwise
 * sessions between devices, Sender Keys for groups, multi-device provisioning and key
 * backup, safety numbers and TOFU trust, and chunked file encryption. Pure TypeScript on
 * @noble; storage through async interfaces; RNG, clock and AEAD injectable.
 * See docs/encryption.md for the constructions and wire formats.
 */
export { CryptoError, isCryptoError, type CryptoErrorCode } from './errors.js';
export {
  defaultContext,
  secureRng,
  nobleAead,
  type Aead,
  type AeadAlgorithm,
  type Clock,
  type CryptoContext,
  type KeyPair,
  type Rng,
} from './primitives.js';
export { addressKey, parseAddressKey, sameAddress, type ProtocolAddress } from './address.js';
export { ENVELOPE_VERSION, MessageType, peekEnvelopeType } from './envelope.js';
export {
  generateIdentityKeyPair,
  generateOneTimePreKeys,
  generateSignedPreKey,
  makePreKeyBundle,
  verifyPreKeyBundle,
  type IdentityKeyPair,
  type OneTimePreKey,
  type PreKeyBundle,
  type SignedPreKey,
} from './keys.js';
export { MAX_SKIP, MAX_STORED_SKIPPED, DEFAULT_SKIPPED_KEY_TTL_MS, type RatchetOptions } from './double-ratchet.js';
export {
  SessionManager,
  type FanOutMessage,
  type PairwisePayload,
  type PairwisePayloadType,
  type SessionManagerOptions,
} from './session-manager.js';
export { SenderKeyManager, MAX_SENDER_CHAINS, type SenderKeyManagerOptions } from './sender-keys.js';
export { openPairwiseMessage, sealSenderKeyDistribution, type IncomingPairwise } from './sender-key-transport.js';
export {
  InMemoryPreKeyStore,
  InMemorySenderKeyStore,
  InMemorySessionStore,
  InMemoryTrustStore,
  type PreKeyStore,
  type SenderKeyStore,
  type SessionStore,
  type TrustRecord,
  type TrustState,
  type TrustStore,
} from './store.js';
export { acceptIdentity, checkIdentity, getTrust, markVerified } from './trust.js';
export {
  displayFingerprint,
  fingerprint,
  formatSafetyNumber,
  safetyNumber,
  scannableFingerprint,
  verifyScannableFingerprint,
  SAFETY_NUMBER_ITERATIONS,
} from './safety-number.js';
export {
  DEFAULT_CHUNK_SIZE,
  decryptFile,
  decryptFileStream,
  encryptFile,
  encryptFileStream,
  type ByteSource,
  type FileEncryptOptions,
} from './file-encryption.js';
export {
  acceptProvisioningRequest,
  confirmProvisioningKey,
  createProvisioningRequest,
  openProvisioningPayload,
  revealProvisioningKey,
  sealProvisioningPayload,
  type ExistingDeviceProvisioning,
  type NewDeviceProvisioning,
  type ProvisioningPayload,
} from './provisioning.js';
export { generateLinkKeyPair, openLinkEnvelope, sealLinkEnvelope } from './link-envelope.js';
export {
  backupParams,
  createKeyBackup,
  restoreKeyBackup,
  DEFAULT_BACKUP_PARAMS,
  MIN_BACKUP_LOG_N,
  type KeyBackupPayload,
  type ScryptParams,
} from './key-backup.js';

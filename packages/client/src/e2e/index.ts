/** The SDK's end-to-end encryption layer; see README.md in this folder. */
export {
  DeviceInboxApi,
  KeysApi,
  retryRateLimited,
  type AuthedRequester,
  type RetryOptions,
  type DeviceMessageListResponse,
  type DeviceSendResultResponse,
  type KeyServiceApi,
  type OwnDeviceListResponse,
} from './api.js';
export { E2EClient, type E2EClientOptions } from './client.js';
export { CONTENT_VERSION, decodeContent, encodeContent, type Attachment, type MessageContent } from './content.js';
export { DeviceDirectory, type UserDevices } from './device-directory.js';
export { DeviceManager, type DeviceManagerOptions, type DeviceState, type StartOptions } from './device-manager.js';
export { EncryptedKeyValueStore, generateStorageKey, type WebCryptoKey } from './encrypted-kv.js';
export { E2EError, isE2EError, type E2EErrorCode } from './errors.js';
export {
  deleteIndexedDbKeyStore,
  IndexedDbKeyValueStore,
  openIndexedDbKeyStore,
  type IndexedDbKeyStore,
  type IndexedDbOptions,
} from './indexeddb-kv.js';
export { E2EKeyStore, type DeviceRecord, type SignedPreKeyInfo, type StoredIdentity } from './key-store.js';
export { MemoryKeyValueStore, type KeyValueStore } from './kv.js';
export {
  E2EMessenger,
  type ContactTrust,
  type DecryptFailureReason,
  type DecryptResult,
  type DeviceMessageResult,
  type E2EEvents,
  type E2EMessengerOptions,
  type SendExtras,
} from './messenger.js';
export {
  approveDeviceLink,
  DeviceLink,
  inspectLinkCode,
  LINK_CODE_LENGTH,
  linkCode,
  parseLinkCode,
  ProvisioningApi,
  type DeviceLabelView,
  type DeviceLinkOptions,
  type LinkRequest,
  type ProvisioningSessionView,
} from './provisioning.js';
export { ContactVerification, type VerificationRecord } from './verification.js';
export { decodePairwiseBody, encodePairwiseBody, PAIRWISE_BODY_VERSION, type PairwiseEntry } from './pairwise-body.js';

/** Types and small helpers of {@link E2EMessenger} (messenger.ts). */
import type { CryptoContext, CryptoErrorCode, ProtocolAddress, TrustState } from '@chatalot/crypto';
import type { Message, MessageAck, SendDeviceMessages, SendMessage } from '@chatalot/protocol';
import type { KeyServiceApi } from './api.js';
import { toHex, utf8 } from './bytes.js';
import type { MessageContent } from './content.js';
import type { DeviceState } from './device-manager.js';
import { E2EError, type E2EErrorCode } from './errors.js';
import type { E2EKeyStore } from './key-store.js';

export interface E2EMessengerOptions {
  store: E2EKeyStore;
  keys: KeyServiceApi;
  /** This device (from DeviceManager.start). */
  device: DeviceState;
  /** The user ids of a channel's or DM's members (ours may be included). Keep it current. */
  channelMembers(channelId: string): Promise<readonly string[]>;
  /**
   * Delivers device messages: REST `POST /api/device-messages` or the gateway's `device.send`.
   * When it resolves with the server's DeviceSendResult, devices listed there as unknown or
   * full are not counted as having received a Sender Key (they are tried again next time).
   */
  sendDeviceMessages(input: SendDeviceMessages): Promise<unknown>;
  /** Posts a message (gateway `message.send` or REST); only `sendChannelMessage` / `sendDirectMessage` use it. */
  send?(input: SendMessage): Promise<MessageAck>;
  /** Acknowledges processed device messages; `handleEvent` calls it for `device.message` events. */
  ackDeviceMessages?(ids: string[]): Promise<unknown>;
  ctx?: CryptoContext;
  /** How long a device list is trusted without an event (default 5 minutes). */
  deviceListTtlMs?: number;
}

/** Why a message could not be shown. */
export type DecryptFailureReason =
  | CryptoErrorCode
  | E2EErrorCode
  /** Deleted: there is nothing to decrypt. */
  | 'deleted'
  /** A DM body without a ciphertext for this device (sent before it existed). */
  | 'not_for_this_device'
  | 'missing_device_id'
  | 'unknown_scheme'
  /** Sent from this device, but its plaintext is no longer stored here. */
  | 'own_message_not_stored'
  | 'internal_error';

export type DecryptResult =
  | {
      status: 'ok';
      /** The text (same as `content.text`). */
      plaintext: string;
      content: MessageContent;
      /** The sender's identity was verified by comparing safety numbers (or it is us). */
      verified: boolean;
      sender: ProtocolAddress;
    }
  | { status: 'failed'; reason: DecryptFailureReason; detail?: string }
  | { status: 'waiting_for_key' };

export type DeviceMessageResult =
  | { status: 'ok'; kind: 'sender_key_distribution'; channelId: string; sender: ProtocolAddress }
  | { status: 'ok'; kind: 'application'; sender: ProtocolAddress }
  /** Kept (durably) until the sender's changed identity is accepted; ack it anyway. */
  | { status: 'held'; reason: 'untrusted_identity'; sender: ProtocolAddress }
  | { status: 'failed'; reason: DecryptFailureReason; sender: ProtocolAddress };

/** Optional fields of a message besides its content. */
export type SendExtras = Pick<SendMessage, 'reply_to' | 'forwarded_from' | 'mentions' | 'mention_everyone'> & {
  /** Reuse a nonce (a retried send); a fresh one by default. */
  nonce?: string;
};

/** A contact's trust state as the UI shows it. */
export interface ContactTrust {
  userId: string;
  state: TrustState;
  identityKey: Uint8Array;
  /** While `changed`: the new key waiting to be accepted. */
  pendingIdentityKey?: Uint8Array;
  /** 60 digits, over the trusted key. */
  safetyNumber: string;
  /** While `changed`: the 60 digits over the new key, to compare before accepting it. */
  pendingSafetyNumber?: string;
  /** While `verified`: when the safety number was marked verified. */
  verifiedAt?: number;
  /** While `changed`: the key that was replaced had been verified. */
  previouslyVerified: boolean;
}

export interface E2EEvents {
  /** Messages that were waiting (for a sender key or an accepted identity) and may decrypt now. */
  retry: Message[];
  /** A contact's identity key changed: sending to them is paused until `accept(userId)`. */
  identityChanged: string;
}

export interface DistributionState {
  chainId: number;
  /** Address keys of the devices that received this chain. */
  delivered: string[];
  /** Set when the chain must be replaced before the next message. */
  rotate?: boolean;
}

/** A decrypted message, valid for exactly this ciphertext, sender, channel and scheme. */
export interface CachedPlaintext {
  digest: string;
  sender: string;
  channelId: string;
  scheme: string;
  content: MessageContent;
}

/** Waiting messages kept per key (oldest dropped beyond). */
export const MAX_WAITING = 1000;
/** Sender chains remembered per sender and channel (to tell "too old" from "not yet"). */
export const MAX_KNOWN_CHAINS = 20;

export const failed = (reason: DecryptFailureReason, detail?: string): DecryptResult =>
  detail === undefined ? { status: 'failed', reason } : { status: 'failed', reason, detail };

/** The chain id of a sender-key message (type 3) or distribution (type 4): [1][type] lp(groupId) chainId … */
export function chainIdOf(bytes: Uint8Array, type: 3 | 4): number {
  if (bytes.length < 6 || bytes[0] !== 1 || bytes[1] !== type)
    throw new E2EError('invalid_format', 'not a sender-key message');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(2, false);
  if (6 + len + 4 > bytes.length) throw new E2EError('invalid_format', 'truncated sender-key message');
  return view.getUint32(6 + len, false);
}

export async function digestOf(ciphertext: string): Promise<string> {
  const d = await globalThis.crypto.subtle.digest('SHA-256', new Uint8Array(utf8(ciphertext)));
  return toHex(new Uint8Array(d));
}

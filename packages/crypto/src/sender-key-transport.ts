/**
 * Sender-key distributions travel only inside pairwise Double Ratchet sessions. These helpers
 * are the only way in and out: `sealSenderKeyDistribution` encrypts a distribution to one
 * device; `openPairwiseMessage` decrypts any pairwise message and, for a distribution,
 * stores it as the key of the device the session belongs to (never of a sender named
 * inside the payload).
 */
import type { ProtocolAddress } from './address.js';
import { decodeEnvelope, encodeEnvelope, MessageType } from './envelope.js';
import { decodeDistribution, type SenderKeyManager } from './sender-keys.js';
import type { SessionManager } from './session-manager.js';

/** A decrypted pairwise message. */
export type IncomingPairwise =
  | { kind: 'application'; plaintext: Uint8Array }
  | { kind: 'sender_key_distribution'; groupId: string; chainId: number };

/** Encrypts our sender-key distribution to one device over the pairwise session. */
export async function sealSenderKeyDistribution(
  sessions: SessionManager,
  to: ProtocolAddress,
  distribution: Uint8Array,
): Promise<Uint8Array> {
  decodeDistribution(distribution); // validates type and shape
  return sessions.encryptPayload(to, {
    type: MessageType.SenderKeyDistribution,
    body: decodeEnvelope(distribution, MessageType.SenderKeyDistribution),
  });
}

/** Decrypts a pairwise message from `from`; a distribution is stored as `from`'s sender key. */
export async function openPairwiseMessage(
  sessions: SessionManager,
  senderKeys: SenderKeyManager,
  from: ProtocolAddress,
  message: Uint8Array,
): Promise<IncomingPairwise> {
  const payload = await sessions.decryptPayload(from, message);
  if (payload.type === MessageType.PairwiseApplication) return { kind: 'application', plaintext: payload.body };
  const d = decodeDistribution(encodeEnvelope(MessageType.SenderKeyDistribution, payload.body));
  await senderKeys._processDistribution(from, d);
  return { kind: 'sender_key_distribution', groupId: d.groupId, chainId: d.chainId };
}

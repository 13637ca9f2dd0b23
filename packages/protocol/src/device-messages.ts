import { z } from 'zod';
import { DeviceId } from './keys.js';
import { base64Bytes } from './messages.js';
import { LIMITS } from './limits.js';

/**
 * Device messages: ciphertext addressed to one device of one user, held by the server until
 * that device acknowledges it. This is how pairwise (Double Ratchet) traffic that belongs to
 * no channel travels: Sender Key distributions, session setup, key-change notices. The
 * server sees who sends to which device and when, never the contents.
 */
export const DEVICE_MESSAGE_LIMITS = {
  /** Envelopes in one send. */
  perSend: 500,
  /** Undelivered envelopes kept per device; a send beyond it is refused with limit_reached. */
  pendingPerDevice: 5000,
  /** Envelopes returned by one fetch. */
  perFetch: 500,
  /** Undelivered envelopes are dropped after this long. */
  retentionMs: 30 * 24 * 60 * 60 * 1000,
} as const;

export const DeviceEnvelope = z.object({
  user_id: z.string().min(1).max(64),
  device_id: DeviceId,
  ciphertext: base64Bytes(LIMITS.messageCiphertextBytes),
});
export type DeviceEnvelope = z.infer<typeof DeviceEnvelope>;

/** Send envelopes from one of the sender's own devices (WebSocket `device.send` or REST). */
export const SendDeviceMessages = z.object({
  sender_device_id: DeviceId,
  messages: z.array(DeviceEnvelope).min(1).max(DEVICE_MESSAGE_LIMITS.perSend),
});
export type SendDeviceMessages = z.infer<typeof SendDeviceMessages>;

/** One envelope as its recipient device receives it. */
export const DeviceMessage = z
  .object({
    id: z.string(),
    sender_id: z.string(),
    sender_device_id: z.number().int(),
    ciphertext: z.string(),
    created_at: z.number().int(),
  })
  .meta({ id: 'DeviceMessage' });
export type DeviceMessage = z.infer<typeof DeviceMessage>;

export const DeviceMessageList = z
  .object({ messages: z.array(DeviceMessage).describe('Oldest first.'), has_more: z.boolean() })
  .meta({ id: 'DeviceMessageList' });

/** Acknowledges (and so deletes) envelopes the device has processed. */
export const AckDeviceMessages = z.object({
  device_id: DeviceId,
  ids: z.array(z.string().min(1).max(64)).min(1).max(DEVICE_MESSAGE_LIMITS.perFetch),
});

const DeviceAddress = z.object({ user_id: z.string(), device_id: z.number().int() });

/** What happened to a send: stored envelopes, and devices that got nothing (and why). */
export const DeviceSendResult = z
  .object({
    delivered: z.number().int(),
    unknown_devices: z.array(DeviceAddress).describe('No such device (any more): refresh the device list.'),
    full_devices: z.array(DeviceAddress).describe('Inbox full: nothing stored for these.'),
  })
  .meta({ id: 'DeviceSendResult' });

export const DeviceInboxQuery = z.object({
  device_id: z.coerce.number().int().min(1).max(0x7fffffff),
  limit: z.coerce.number().int().min(1).max(DEVICE_MESSAGE_LIMITS.perFetch).default(DEVICE_MESSAGE_LIMITS.perFetch),
});

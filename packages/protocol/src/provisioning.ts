import { z } from 'zod';
import { DeviceId, PublicKey32 } from './keys.js';
import { base64Bytes } from './messages.js';

// Linking a new device (PRODUCT.md §5 "Devices"): the new browser opens a provisioning session
// holding its ephemeral X25519 public key; another signed-in session of the same user posts one
// opaque envelope (the identity key, encrypted to that ephemeral key); the new browser reads it.
// The server relays bytes it cannot read. See apps/server/src/provisioning/.

export const PROVISIONING_LIMITS = {
  /** A session (and its envelope) is gone this long after it was opened. */
  sessionTtlMs: 10 * 60 * 1000,
  /** Sessions one user may have open at a time. */
  openSessionsPerUser: 3,
  /** Largest envelope, in bytes before base64. */
  envelopeBytes: 16 * 1024,
  /** Longest device name, in characters. */
  deviceNameChars: 64,
  /** Sessions opened per user: a burst of 5, then one a minute. */
  createBucket: { capacity: 5, refillPerSec: 1 / 60 },
  /** Session look-ups and envelope reads/posts per user: a burst of 60, then one every 2 s. */
  accessBucket: { capacity: 60, refillPerSec: 1 / 2 },
} as const;

/** Crockford base32 without I, L, O, U: what a person types from the code shown on the new device. */
export const PROVISIONING_ID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Characters of a session id (50 random bits; only the owner's own sessions can be looked up). */
export const PROVISIONING_ID_LENGTH = 10;

/** A provisioning session id, as in the path. */
export const ProvisioningSessionId = z
  .string()
  .regex(new RegExp(`^[${PROVISIONING_ID_ALPHABET}]{${PROVISIONING_ID_LENGTH}}$`), 'Expected a provisioning session id')
  .describe(`${PROVISIONING_ID_LENGTH} characters of Crockford base32 (upper case).`);

export const ProvisioningSessionParams = z.object({ sessionId: ProvisioningSessionId });

/** Opened by the new device (signed in, without the user's identity key). */
export const CreateProvisioningSession = z
  .object({
    ephemeral_key: PublicKey32.describe('The new device’s ephemeral X25519 public key, unpadded base64url.'),
    device_name: z
      .string()
      .trim()
      .min(1)
      .max(PROVISIONING_LIMITS.deviceNameChars)
      .describe('How the new device names itself (shown on the approving device).'),
  })
  .meta({ id: 'CreateProvisioningSession' });
export type CreateProvisioningSession = z.infer<typeof CreateProvisioningSession>;

export const ProvisioningSessionCreated = z
  .object({ id: ProvisioningSessionId, expires_at: z.number().int() })
  .meta({ id: 'ProvisioningSessionCreated' });
export type ProvisioningSessionCreated = z.infer<typeof ProvisioningSessionCreated>;

/** What the approving device sees before it approves. */
export const ProvisioningSession = z
  .object({
    id: ProvisioningSessionId,
    device_name: z.string(),
    ephemeral_key: PublicKey32,
    created_at: z.number().int(),
    expires_at: z.number().int(),
    approved: z.boolean().describe('True once an envelope was posted (a session takes one).'),
  })
  .meta({ id: 'ProvisioningSession' });
export type ProvisioningSession = z.infer<typeof ProvisioningSession>;

/** The opaque envelope (standard base64); the server never decodes it. */
export const ProvisioningEnvelopeBody = z
  .object({ envelope: base64Bytes(PROVISIONING_LIMITS.envelopeBytes) })
  .meta({ id: 'ProvisioningEnvelopeBody' });
export type ProvisioningEnvelopeBody = z.infer<typeof ProvisioningEnvelopeBody>;

/** The new device's poll: null until the envelope arrived. */
export const ProvisioningEnvelope = z.object({ envelope: z.string().nullable() }).meta({ id: 'ProvisioningEnvelope' });
export type ProvisioningEnvelope = z.infer<typeof ProvisioningEnvelope>;

// Device labels: how each of the user's devices names itself and when it last started its
// encryption session, for the devices list in settings. The key service knows devices only by
// number; a device reports its own label (`PUT`), the list reads all of them.

export const DeviceLabelBody = z
  .object({
    name: z.string().trim().min(1).max(PROVISIONING_LIMITS.deviceNameChars).describe('How the device names itself.'),
  })
  .meta({ id: 'DeviceLabelBody' });
export type DeviceLabelBody = z.infer<typeof DeviceLabelBody>;

export const DeviceLabel = z
  .object({
    device_id: DeviceId,
    name: z.string(),
    last_seen_at: z.number().int().describe('When the device last reported itself (ms).'),
  })
  .meta({ id: 'DeviceLabel' });
export type DeviceLabel = z.infer<typeof DeviceLabel>;

export const DeviceLabelList = z.object({ labels: z.array(DeviceLabel) }).meta({ id: 'DeviceLabelList' });
export type DeviceLabelList = z.infer<typeof DeviceLabelList>;

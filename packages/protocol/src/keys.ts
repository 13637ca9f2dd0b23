import { z } from 'zod';

// Schemas of the key service (PRODUCT.md §5): identity keys, devices, prekeys and bundles.
// See apps/server/src/keys/ and docs/encryption.md "Key service".

/** Limits of the key service. The server enforces them; clients respect them before sending. */
export const KEY_LIMITS = {
  /** Registered devices per user. */
  devicesPerUser: 10,
  /** One-time prekeys in one upload. */
  oneTimePreKeysPerUpload: 200,
  /** Unclaimed one-time prekeys stored per device. */
  oneTimePreKeysPerDevice: 1000,
  /** How many one-time prekeys a client keeps uploaded (PRODUCT.md §5). */
  oneTimePreKeysTarget: 100,
  /** Below this many unclaimed one-time prekeys the server publishes `keys.low` to the owner. */
  lowOneTimePreKeys: 25,
  /** Devices whose bundles one fetch may ask for by id. */
  devicesPerFetch: 10,
  /** The client replaces its signed prekey this often. */
  signedPreKeyRotationMs: 7 * 24 * 60 * 60 * 1000,
} as const;

/** 32 bytes, unpadded base64url, canonical (the unused low bits of the last character are 0). */
export const PublicKey32 = z
  .string()
  .regex(/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/, 'Expected 32 bytes as unpadded base64url')
  .describe('32 bytes, unpadded base64url.');

/** 64 bytes (an Ed25519 signature), unpadded base64url, canonical. */
export const Signature64 = z
  .string()
  .regex(/^[A-Za-z0-9_-]{85}[AQgw]$/, 'Expected 64 bytes as unpadded base64url')
  .describe('64 bytes, unpadded base64url.');

/** A prekey id chosen by the client (u32). */
export const PreKeyId = z.number().int().min(0).max(0xffffffff);

/** A device id assigned by the server: 1, 2, 3, … per user, never reused. */
export const DeviceId = z.number().int().min(1).max(0x7fffffff);

/** The path parameter form of {@link DeviceId}. */
export const DeviceIdParam = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, 'Expected a device id')
  .transform(Number)
  .pipe(DeviceId);

/**
 * A signed prekey: an X25519 public key signed by the user's Ed25519 identity key over
 * `lp("chatalot/v1/signed-prekey") || u32be(key_id) || public_key` (packages/crypto keys.ts).
 */
export const SignedPreKey = z
  .object({
    key_id: PreKeyId,
    public_key: PublicKey32.describe('X25519 public key, unpadded base64url.'),
    signature: Signature64.describe('Ed25519 signature by the identity key, unpadded base64url.'),
  })
  .meta({ id: 'SignedPreKey' });

export const OneTimePreKey = z
  .object({
    key_id: PreKeyId,
    public_key: PublicKey32.describe('X25519 public key, unpadded base64url.'),
  })
  .meta({ id: 'OneTimePreKey' });

const OneTimePreKeyUpload = z
  .array(OneTimePreKey)
  .max(KEY_LIMITS.oneTimePreKeysPerUpload)
  .refine((keys) => new Set(keys.map((k) => k.key_id)).size === keys.length, 'Key ids must be unique')
  .describe(`At most ${KEY_LIMITS.oneTimePreKeysPerUpload}, ids unique per device.`);

/** Registers a new device of the signed-in user; the server assigns its id. */
export const RegisterDeviceRequest = z
  .object({
    identity_key: PublicKey32.describe(
      'The user’s Ed25519 identity public key. Must equal the one already registered unless reset_identity.',
    ),
    signed_prekey: SignedPreKey,
    one_time_prekeys: OneTimePreKeyUpload.default([]),
    reset_identity: z
      .boolean()
      .default(false)
      .describe(
        'Replace a different registered identity key. Removes every other device of the user and publishes ' +
          '`identity.changed`, so contacts show the changed-key warning.',
      ),
  })
  .meta({ id: 'RegisterDeviceRequest' });

/** One of the signed-in user's own devices. */
export const OwnDevice = z
  .object({
    device_id: DeviceId,
    signed_prekey_id: PreKeyId,
    signed_prekey_updated_at: z.number().int().describe('When the signed prekey was last replaced (ms).'),
    one_time_prekeys: z.number().int().describe('Unclaimed one-time prekeys on the server.'),
    created_at: z.number().int(),
  })
  .meta({ id: 'OwnDevice' });

export const OwnDeviceList = z
  .object({
    identity_key: PublicKey32.nullable().describe('The user’s identity key; null before the first device.'),
    devices: z.array(OwnDevice),
  })
  .meta({ id: 'OwnDeviceList' });

export const UploadOneTimePreKeysRequest = z
  .object({ one_time_prekeys: OneTimePreKeyUpload.refine((keys) => keys.length > 0, 'Send at least one key') })
  .meta({ id: 'UploadOneTimePreKeysRequest' });

export const OneTimePreKeyCount = z
  .object({ count: z.number().int().describe('Unclaimed one-time prekeys of the device.') })
  .meta({ id: 'OneTimePreKeyCount' });

/** A user's devices as anyone who may contact them sees them (no prekeys are claimed). */
export const UserDeviceList = z
  .object({
    user_id: z.string(),
    identity_key: PublicKey32.nullable().describe('Null while the user has never registered a device.'),
    devices: z.array(z.object({ device_id: DeviceId, created_at: z.number().int() })),
  })
  .meta({ id: 'UserDeviceList' });

/** What X3DH needs to start a session with one device (public keys only). */
export const PreKeyBundle = z
  .object({
    device_id: DeviceId,
    signed_prekey: SignedPreKey,
    one_time_prekey: OneTimePreKey.nullable().describe(
      'Claimed for this fetch and never handed out again; null when the device has none left.',
    ),
  })
  .meta({ id: 'PreKeyBundle' });

export const PreKeyBundleList = z
  .object({
    user_id: z.string(),
    identity_key: PublicKey32.nullable(),
    bundles: z.array(PreKeyBundle),
  })
  .meta({ id: 'PreKeyBundleList' });

export const BundleQuery = z.object({
  device_ids: z
    .string()
    .regex(/^\d{1,10}(,\d{1,10})*$/, 'Comma-separated device ids')
    .transform((s) => [...new Set(s.split(',').map(Number))])
    .pipe(z.array(DeviceId).max(KEY_LIMITS.devicesPerFetch))
    .optional()
    .describe('Only these devices (comma-separated); every device of the user when absent.'),
});

/** Broker/WebSocket events of the key service. */
export const KeysLowEvent = z.object({
  type: z.literal('keys.low'),
  device_id: DeviceId,
  remaining: z.number().int().describe('Unclaimed one-time prekeys left; upload more.'),
});
export const DeviceAddedEvent = z.object({ type: z.literal('device.added'), user_id: z.string(), device_id: DeviceId });
export const DeviceRemovedEvent = z.object({
  type: z.literal('device.removed'),
  user_id: z.string(),
  device_id: DeviceId,
});
export const IdentityChangedEvent = z.object({
  type: z.literal('identity.changed'),
  user_id: z.string(),
  identity_key: PublicKey32,
});

export type SignedPreKey = z.infer<typeof SignedPreKey>;
export type OneTimePreKey = z.infer<typeof OneTimePreKey>;
export type RegisterDeviceRequest = z.infer<typeof RegisterDeviceRequest>;
export type OwnDevice = z.infer<typeof OwnDevice>;
export type UserDeviceList = z.infer<typeof UserDeviceList>;
export type PreKeyBundle = z.infer<typeof PreKeyBundle>;
export type PreKeyBundleList = z.infer<typeof PreKeyBundleList>;
export type KeysLowEvent = z.infer<typeof KeysLowEvent>;
export type DeviceAddedEvent = z.infer<typeof DeviceAddedEvent>;
export type DeviceRemovedEvent = z.infer<typeof DeviceRemovedEvent>;
export type IdentityChangedEvent = z.infer<typeof IdentityChangedEvent>;

import { z } from 'zod';

/** 3–32 characters of letters, digits, `_`, `.`, `-`, starting with a letter or digit. */
export const Username = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/,
    '3–32 characters: letters, digits, _ . - (starting with a letter or digit)',
  );
/** 8–128 characters; the server also refuses very common passwords. */
export const Password = z.string().min(8, 'at least 8 characters').max(128, 'at most 128 characters');
export const DisplayName = z.string().trim().min(1).max(64);
export const Email = z.string().trim().max(254).email();
/** A 6-digit TOTP code or an `XXXX-XXXX` backup code. */
export const SecondFactorCode = z.string().trim().min(6).max(16);

export const InstanceRole = z.enum(['owner', 'admin', 'user']);
export const Presence = z.enum(['online', 'idle', 'dnd', 'invisible']);

/** The signed-in user's own account, as returned to that user. */
export const AccountUser = z
  .object({
    id: z.string(),
    username: z.string(),
    display_name: z.string(),
    email: z.string().nullable(),
    instance_role: InstanceRole,
    avatar_url: z.string().nullable(),
    banner_url: z.string().nullable(),
    bio: z.string(),
    pronouns: z.string(),
    custom_status: z.string(),
    presence: Presence,
    totp_enabled: z.boolean(),
    created_at: z.number().int(),
  })
  .meta({ id: 'AccountUser' });

/** Tokens issued at sign-in, registration and refresh. */
export const TokenPair = z.object({
  access_token: z.string().describe('EdDSA JWT, valid 15 minutes; send as `Authorization: Bearer`.'),
  refresh_token: z.string().describe('Opaque, single use, valid 30 days; exchange at /api/auth/refresh.'),
  expires_in: z.number().int().describe('Seconds until the access token expires.'),
});

export const RegisterRequest = z
  .object({
    username: Username,
    password: Password,
    display_name: DisplayName.optional(),
    email: Email.optional(),
    invite_code: z.string().trim().min(1).max(64).optional(),
  })
  .meta({ id: 'RegisterRequest' });

export const RegisterResponse = z
  .object({
    user: AccountUser,
    ...TokenPair.shape,
    recovery_code: z.string().describe('Shown once: resets the password when everything else is lost.'),
  })
  .meta({ id: 'RegisterResponse' });

export const LoginRequest = z
  .object({
    username: z.string().min(1).max(64),
    password: z.string().min(1).max(128),
    totp_code: SecondFactorCode.optional(),
    device_name: z.string().trim().min(1).max(64).optional(),
  })
  .meta({ id: 'LoginRequest' });

export const LoginResponse = z.object({ user: AccountUser, ...TokenPair.shape }).meta({ id: 'LoginResponse' });

export const RefreshRequest = z.object({ refresh_token: z.string().min(1).max(256) }).meta({ id: 'RefreshRequest' });
export const RefreshResponse = TokenPair.meta({ id: 'TokenPair' });

export const SessionInfo = z
  .object({
    id: z.string(),
    device_name: z.string(),
    ip: z.string().nullable(),
    created_at: z.number().int(),
    last_used_at: z.number().int(),
    current: z.boolean(),
  })
  .meta({ id: 'SessionInfo' });
export const SessionList = z.object({ sessions: z.array(SessionInfo) }).meta({ id: 'SessionList' });

export const ChangePasswordRequest = z
  .object({ current_password: z.string().min(1).max(128), new_password: Password })
  .meta({ id: 'ChangePasswordRequest' });

export const RecoverRequest = z
  .object({
    username: z.string().min(1).max(64),
    recovery_code: z.string().trim().min(16).max(32),
    new_password: Password,
    totp_code: SecondFactorCode.optional(),
  })
  .meta({ id: 'RecoverRequest' });
export const RecoveryCodeResponse = z.object({ recovery_code: z.string() }).meta({ id: 'RecoveryCodeResponse' });
export const PasswordConfirmation = z
  .object({ password: z.string().min(1).max(128) })
  .meta({ id: 'PasswordConfirmation' });

export const TotpSetupResponse = z
  .object({ secret: z.string(), otpauth_url: z.string() })
  .meta({ id: 'TotpSetupResponse' });
export const TotpEnableRequest = z.object({ code: z.string().trim().min(6).max(6) }).meta({ id: 'TotpEnableRequest' });
export const TotpConfirmRequest = z
  .object({ password: z.string().min(1).max(128), code: SecondFactorCode })
  .meta({ id: 'TotpConfirmRequest' });
export const BackupCodesResponse = z.object({ backup_codes: z.array(z.string()) }).meta({ id: 'BackupCodesResponse' });

export const ProfileUpdate = z
  .object({
    display_name: DisplayName.optional(),
    bio: z.string().max(500).optional(),
    pronouns: z.string().max(50).optional(),
    custom_status: z.string().max(128).optional(),
    presence: Presence.optional(),
    email: Email.nullable().optional(),
  })
  .meta({ id: 'ProfileUpdate' });

/** Client preferences synced across devices: any JSON object, ≤16 KB serialized. */
export const Preferences = z.record(z.string().max(64), z.unknown()).meta({ id: 'Preferences' });

export const DeleteAccountRequest = z
  .object({ password: z.string().min(1).max(128), totp_code: SecondFactorCode.optional() })
  .meta({ id: 'DeleteAccountRequest' });

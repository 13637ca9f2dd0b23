import type { Generated } from 'kysely';

/**
 * Table types for Kysely. Timestamps are integer milliseconds since the epoch on both
 * dialects (BIGINT in PostgreSQL, parsed back to numbers; INTEGER in SQLite).
 */
export interface InstanceSettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

export type InstanceRole = 'owner' | 'admin' | 'user';

export interface UsersTable {
  id: string;
  username: string;
  username_lower: string;
  display_name: string;
  email: string | null;
  email_lower: string | null;
  password_hash: string;
  instance_role: Generated<InstanceRole>;
  suspended_at: number | null;
  suspended_reason: string | null;
  /** TOTP secret sealed with the TOTP encryption key (secret-box.ts). */
  totp_secret: string | null;
  /** A secret from setup that is not confirmed with a code yet. */
  totp_pending_secret: string | null;
  totp_enabled_at: number | null;
  /** The last TOTP time step accepted: a code is never accepted twice. */
  totp_last_step: number | null;
  recovery_code_hash: string;
  bio: Generated<string>;
  pronouns: Generated<string>;
  custom_status: Generated<string>;
  presence: Generated<string>;
  avatar_asset: string | null;
  banner_asset: string | null;
  preferences: Generated<string>;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  device_name: string;
  ip: string | null;
  user_agent: string | null;
  created_at: number;
  last_used_at: number;
  revoked_at: number | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

export interface BackupCodesTable {
  user_id: string;
  code_hash: string;
  used_at: number | null;
}

export interface RegistrationInvitesTable {
  code: string;
  created_by: string | null;
  max_uses: number | null;
  uses: Generated<number>;
  expires_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

export interface AuditLogTable {
  id: string;
  action: string;
  actor_id: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: string;
  created_at: number;
}

export interface DB {
  instance_settings: InstanceSettingsTable;
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  backup_codes: BackupCodesTable;
  registration_invites: RegistrationInvitesTable;
  audit_log: AuditLogTable;
}

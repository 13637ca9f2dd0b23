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

export type CommunityRole = 'owner' | 'admin' | 'moderator' | 'member';
export type CreationPolicy = 'everyone' | 'moderator' | 'admin';
export type ChannelKind = 'text' | 'voice' | 'gallery' | 'dm' | 'group_dm';

export interface CommunitiesTable {
  id: string;
  name: string;
  description: Generated<string>;
  welcome_message: Generated<string>;
  icon_asset: string | null;
  banner_asset: string | null;
  /** JSON: `{ colors, css }`, css already sanitised and scoped. */
  theme: Generated<string>;
  who_can_create_groups: Generated<CreationPolicy>;
  who_can_create_invites: Generated<CreationPolicy>;
  discoverable: Generated<number>;
  owner_id: string;
  created_at: number;
  updated_at: number;
}

export interface CommunityMembersTable {
  community_id: string;
  user_id: string;
  role: Generated<CommunityRole>;
  nickname: string | null;
  joined_at: number;
}

export interface InvitesTable {
  code: string;
  created_by: string | null;
  max_uses: number | null;
  uses: Generated<number>;
  expires_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

export interface CommunityInvitesTable extends InvitesTable {
  community_id: string;
}

export interface GroupInvitesTable extends InvitesTable {
  group_id: string;
}

export interface CommunityBansTable {
  community_id: string;
  user_id: string;
  reason: Generated<string>;
  banned_by: string | null;
  created_at: number;
}

export interface GroupsTable {
  id: string;
  community_id: string;
  name: string;
  description: Generated<string>;
  visibility: Generated<'public' | 'private'>;
  discoverable: Generated<number>;
  icon_asset: string | null;
  banner_asset: string | null;
  accent_color: string | null;
  personal_owner_id: string | null;
  members_can_invite: Generated<number>;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: string;
  role: Generated<'admin' | 'member'>;
  joined_at: number;
}

export interface ChannelsTable {
  id: string;
  group_id: string | null;
  kind: ChannelKind;
  name: Generated<string>;
  topic: Generated<string>;
  read_only: Generated<number>;
  slow_mode_secs: Generated<number>;
  archived_at: number | null;
  message_ttl_secs: number | null;
  voice_background: string | null;
  position: Generated<number>;
  dm_key: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  /** The last sequence number handed out in this channel (messages migration). */
  last_seq: Generated<number>;
}

export interface ChannelMembersTable {
  channel_id: string;
  user_id: string;
  joined_at: number;
}

export interface UserBlocksTable {
  blocker_id: string;
  blocked_id: string;
  created_at: number;
}

export interface MessagesTable {
  id: string;
  channel_id: string;
  seq: number;
  sender_id: string | null;
  nonce: string;
  /** base64, never decoded by the server. */
  ciphertext: string;
  scheme: 'sender_key' | 'pairwise';
  distribution_id: string | null;
  device_id: number | null;
  reply_to: string | null;
  thread_root: string | null;
  forwarded_from: string | null;
  /** JSON array of user ids. */
  mentions: Generated<string>;
  mention_everyone: Generated<number>;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
  expires_at: number | null;
  pinned_at: number | null;
  pinned_by: string | null;
  /** How many rows of message_reactions it has; never below the truth (see migration 0009). */
  reaction_count: Generated<number>;
}

export interface MessageVersionsTable {
  message_id: string;
  version: number;
  ciphertext: string;
  created_at: number;
}

export interface MessageReactionsTable {
  message_id: string;
  user_id: string;
  emoji: string;
  created_at: number;
}

export interface ReadStatesTable {
  channel_id: string;
  user_id: string;
  read_seq: number;
  updated_at: number;
}

/** The user's Ed25519 identity public key (one per user, shared by their devices). */
export interface IdentityKeysTable {
  user_id: string;
  /** Unpadded base64url. */
  public_key: string;
  /** The id the next registered device gets; ids are never reused. */
  next_device_id: Generated<number>;
  created_at: number;
  updated_at: number;
}

/** A registered device and its current signed prekey (public parts, base64url). */
export interface DevicesTable {
  user_id: string;
  device_id: number;
  signed_prekey_id: number;
  signed_prekey: string;
  signed_prekey_signature: string;
  signed_prekey_updated_at: number;
  created_at: number;
}

/** An unclaimed one-time prekey; a bundle fetch deletes the row it hands out. */
export interface OneTimePreKeysTable {
  user_id: string;
  device_id: number;
  key_id: number;
  public_key: string;
}

export interface DeviceMessagesTable {
  id: string;
  recipient_id: string;
  recipient_device_id: number;
  sender_id: string;
  sender_device_id: number;
  /** base64, never decoded by the server. */
  ciphertext: string;
  created_at: number;
}

/** A device-linking session (PRODUCT.md §5 "Devices"); gone ten minutes after it opened. */
export interface ProvisioningSessionsTable {
  id: string;
  user_id: string;
  /** The auth session of the new device: only it reads the envelope, only others post it. */
  creator_session_id: string;
  ephemeral_key: string;
  device_name: string;
  /** base64, never decoded by the server; null until approved. */
  envelope: string | null;
  approver_session_id: string | null;
  created_at: number;
  expires_at: number;
}

/** How a device names itself and when it last reported itself (the devices list). */
export interface DeviceLabelsTable {
  user_id: string;
  device_id: number;
  name: string;
  last_seen_at: number;
}

export interface DB {
  instance_settings: InstanceSettingsTable;
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  backup_codes: BackupCodesTable;
  registration_invites: RegistrationInvitesTable;
  audit_log: AuditLogTable;
  communities: CommunitiesTable;
  community_members: CommunityMembersTable;
  community_invites: CommunityInvitesTable;
  community_bans: CommunityBansTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  group_invites: GroupInvitesTable;
  channels: ChannelsTable;
  channel_members: ChannelMembersTable;
  user_blocks: UserBlocksTable;
  messages: MessagesTable;
  message_versions: MessageVersionsTable;
  message_reactions: MessageReactionsTable;
  read_states: ReadStatesTable;
  device_messages: DeviceMessagesTable;
  identity_keys: IdentityKeysTable;
  devices: DevicesTable;
  one_time_prekeys: OneTimePreKeysTable;
  provisioning_sessions: ProvisioningSessionsTable;
  device_labels: DeviceLabelsTable;
}

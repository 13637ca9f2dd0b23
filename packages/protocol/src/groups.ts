import { z } from 'zod';

// Schemas for groups, personal groups, group invites and channels: see apps/server/src/groups/.

/** PRODUCT.md §12. */
export const GROUP_LIMITS = { groupsPerCommunity: 200, channelsPerGroup: 100 } as const;

export const GroupVisibility = z
  .enum(['public', 'private'])
  .describe('Public groups hold every community member; private ones only those invited.');
export const GroupRole = z.enum(['admin', 'member']);
export const GroupName = z.string().trim().min(1).max(64);
export const GroupDescription = z.string().max(2048);
export const AccentColor = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/, 'Use #rrggbb')
  .transform((s) => s.toLowerCase());

export const Group = z
  .object({
    id: z.string(),
    community_id: z.string(),
    name: z.string(),
    description: z.string(),
    visibility: GroupVisibility,
    discoverable: z.boolean(),
    icon_url: z.string().nullable(),
    banner_url: z.string().nullable(),
    accent_color: z.string().nullable(),
    personal_owner_id: z.string().nullable().describe('For personal groups: the member it was assigned to.'),
    members_can_invite: z.boolean().describe('Personal groups: whether a moderator allowed the owner to invite.'),
    member_count: z.number().int(),
    joined: z.boolean().describe('Whether the caller is a member of the group.'),
    my_role: GroupRole.nullable().describe('The caller’s group role; null when not a member.'),
    created_at: z.number().int(),
    updated_at: z.number().int(),
  })
  .meta({ id: 'Group' });
export const GroupList = z.object({ groups: z.array(Group) }).meta({ id: 'GroupList' });

/**
 * An entry of the discover list. Public groups are shown in full; private discoverable groups
 * by name only (the other fields are null) and are joined with a group invite.
 */
export const DiscoverableGroup = z
  .object({
    id: z.string(),
    name: z.string(),
    visibility: GroupVisibility,
    description: z.string().nullable(),
    icon_url: z.string().nullable(),
    accent_color: z.string().nullable(),
    member_count: z.number().int().nullable(),
  })
  .meta({ id: 'DiscoverableGroup' });
export const DiscoverableGroupList = z
  .object({ groups: z.array(DiscoverableGroup) })
  .meta({ id: 'DiscoverableGroupList' });

export const CreateGroup = z
  .object({
    name: GroupName,
    description: GroupDescription.optional(),
    visibility: GroupVisibility,
    discoverable: z.boolean().optional().describe('Default: true for public groups, false for private ones.'),
  })
  .meta({ id: 'CreateGroup' });

export const UpdateGroup = z
  .object({
    name: GroupName.optional(),
    description: GroupDescription.optional(),
    visibility: GroupVisibility.optional().describe('Making a group public adds every community member to it.'),
    discoverable: z.boolean().optional(),
    accent_color: AccentColor.nullable().optional().describe('`null` clears it.'),
  })
  .meta({ id: 'UpdateGroup' });

export const CreatePersonalGroup = z
  .object({ user_id: z.string().min(1).max(64), name: GroupName })
  .meta({ id: 'CreatePersonalGroup' });
export const UpdatePersonalGroup = z.object({ members_can_invite: z.boolean() }).meta({ id: 'UpdatePersonalGroup' });

export const GroupJoinResult = z
  .object({
    joined: z.boolean().describe('False when the caller was a member already (an invite keeps its use).'),
    group: Group,
  })
  .meta({ id: 'GroupJoinResult' });

export const GroupMember = z
  .object({
    user_id: z.string(),
    username: z.string(),
    display_name: z.string(),
    avatar_url: z.string().nullable(),
    role: GroupRole,
    joined_at: z.number().int(),
  })
  .meta({ id: 'GroupMember' });
export const GroupMemberList = z.object({ members: z.array(GroupMember) }).meta({ id: 'GroupMemberList' });
export const UpdateGroupMember = z.object({ role: GroupRole }).meta({ id: 'UpdateGroupMember' });

export const CreateGroupInvite = z
  .object({
    max_uses: z.number().int().min(1).max(10_000).optional().describe('Unlimited when absent.'),
    expires_in_hours: z.number().int().min(1).max(8760).optional().describe('Never expires when absent.'),
  })
  .meta({ id: 'CreateGroupInvite' });
export const GroupInvite = z
  .object({
    code: z.string(),
    group_id: z.string(),
    created_by: z.string().nullable(),
    max_uses: z.number().int().nullable(),
    uses: z.number().int(),
    expires_at: z.number().int().nullable(),
    revoked: z.boolean(),
    created_at: z.number().int(),
  })
  .meta({ id: 'GroupInvite' });
export const GroupInviteList = z.object({ invites: z.array(GroupInvite) }).meta({ id: 'GroupInviteList' });

// Channels

export const GroupChannelKind = z.enum(['text', 'voice', 'gallery']);
export const ChannelKind = z.enum(['text', 'voice', 'gallery', 'dm', 'group_dm']);
export const ChannelName = z.string().trim().min(1).max(64);
export const ChannelTopic = z.string().max(512);
/** Disappearing messages: at most 30 days. */
export const MAX_MESSAGE_TTL_SECS = 30 * 24 * 3600;
/**
 * A voice channel background: a preset name (`aurora`, `night-sky`) or the id of an image
 * stored through the asset pipeline (`<sha256>.webp|png|gif`).
 */
export const VoiceBackground = z
  .string()
  .regex(/^(?:[a-z][a-z0-9-]{0,31}|[0-9a-f]{64}\.(?:webp|gif|png))$/, 'Use a preset name or an image asset id');

export const Channel = z
  .object({
    id: z.string(),
    group_id: z.string().nullable().describe('Null for DMs.'),
    community_id: z.string().nullable().describe('Null for DMs.'),
    kind: ChannelKind,
    name: z.string(),
    topic: z.string(),
    read_only: z.boolean().describe('Only moderators may post. Archived channels are read-only whatever this says.'),
    slow_mode_secs: z.number().int(),
    archived: z.boolean().describe('Archived channels are kept, read-only forever, and cannot be un-archived.'),
    archived_at: z.number().int().nullable(),
    message_ttl_secs: z.number().int().nullable().describe('Disappearing messages; null = kept.'),
    voice_background: z.string().nullable(),
    position: z.number().int(),
    created_by: z.string().nullable(),
    created_at: z.number().int(),
    updated_at: z.number().int(),
  })
  .meta({ id: 'Channel' });
export const ChannelList = z.object({ channels: z.array(Channel) }).meta({ id: 'ChannelList' });

export const CreateChannel = z
  .object({ name: ChannelName, kind: GroupChannelKind, topic: ChannelTopic.optional() })
  .meta({ id: 'CreateChannel' });

export const UpdateChannel = z
  .object({
    name: ChannelName.optional(),
    topic: ChannelTopic.optional(),
    read_only: z.boolean().optional(),
    slow_mode_secs: z.number().int().min(0).max(86_400).optional(),
    archived: z.literal(true).optional().describe('Archiving is final: `false` is refused.'),
    message_ttl_secs: z
      .number()
      .int()
      .min(1)
      .max(MAX_MESSAGE_TTL_SECS)
      .nullable()
      .optional()
      .describe('`null` clears it.'),
    voice_background: VoiceBackground.nullable().optional().describe('Voice channels only; `null` clears it.'),
  })
  .meta({ id: 'UpdateChannel' });

export const ChannelMember = z
  .object({
    user_id: z.string(),
    username: z.string(),
    display_name: z.string(),
    avatar_url: z.string().nullable(),
    role: GroupRole.describe('Their role in the channel’s group.'),
    joined_at: z.number().int(),
  })
  .meta({ id: 'ChannelMember' });
export const ChannelMemberList = z.object({ members: z.array(ChannelMember) }).meta({ id: 'ChannelMemberList' });

export type Group = z.infer<typeof Group>;
export type Channel = z.infer<typeof Channel>;
export type GroupMember = z.infer<typeof GroupMember>;

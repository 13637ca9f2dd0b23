import { z } from 'zod';

// Schemas for communities, their invites, members and bans: see apps/server/src/communities/.

export const CommunityRole = z.enum(['owner', 'admin', 'moderator', 'member']);
/** Roles that can be given with a role change; `owner` only moves by a transfer. */
export const AssignableCommunityRole = z.enum(['admin', 'moderator', 'member']);
export const CommunityCreationPolicy = z
  .enum(['everyone', 'moderator', 'admin'])
  .describe('The least community role that may do it.');

export const CommunityName = z.string().trim().min(1).max(64);
export const CommunityDescription = z.string().max(2048);
export const CommunityWelcomeMessage = z.string().max(2000);
export const CommunityNickname = z.string().trim().max(64);

/** The stored theme: colour variables and the sanitised, scoped CSS. */
export const CommunityThemeView = z
  .object({
    colors: z.record(z.string(), z.string()).describe('CSS colour variables, by name.'),
    css: z.string().describe('Custom CSS, already sanitised and scoped to `[data-community-theme="<id>"]`.'),
  })
  .meta({ id: 'CommunityThemeView' });

/** A theme as sent by an admin; the server validates the colours and sanitises the CSS. */
export const CommunityThemeInput = z
  .strictObject({
    colors: z
      .record(z.string(), z.string())
      .optional()
      .describe(
        'Any of `background`, `surface`, `text`, `muted`, `accent`, `accent_text`, `border`: `#hex`, `rgb[a]()` or `hsl[a]()`.',
      ),
    css: z
      .string()
      .optional()
      .describe('Custom CSS, at most 4096 bytes: allowlisted properties, no `@import`, no `url()` but our own assets.'),
  })
  .meta({ id: 'CommunityThemeInput' });

export const Community = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    welcome_message: z.string(),
    icon_url: z.string().nullable(),
    banner_url: z.string().nullable(),
    theme: CommunityThemeView,
    who_can_create_groups: CommunityCreationPolicy,
    who_can_create_invites: CommunityCreationPolicy,
    discoverable: z.boolean(),
    owner_id: z.string(),
    member_count: z.number().int(),
    my_role: CommunityRole.nullable().describe('The caller’s role; null for instance admins who are not members.'),
    created_at: z.number().int(),
    updated_at: z.number().int(),
  })
  .meta({ id: 'Community' });
export const CommunityList = z.object({ communities: z.array(Community) }).meta({ id: 'CommunityList' });

export const CreateCommunity = z
  .object({ name: CommunityName, description: CommunityDescription.optional() })
  .meta({ id: 'CreateCommunity' });

export const UpdateCommunity = z
  .object({
    name: CommunityName.optional(),
    description: CommunityDescription.optional(),
    welcome_message: CommunityWelcomeMessage.optional(),
    discoverable: z.boolean().optional(),
    who_can_create_groups: CommunityCreationPolicy.optional(),
    who_can_create_invites: CommunityCreationPolicy.optional(),
    theme: CommunityThemeInput.nullable()
      .optional()
      .describe(
        'The CSS is sanitised and scoped by the server (refused with `validation_error` otherwise); `null` resets the theme.',
      ),
  })
  .meta({ id: 'UpdateCommunity' });

export const TransferCommunity = z.object({ user_id: z.string().min(1).max(64) }).meta({ id: 'TransferCommunity' });

export const CreateCommunityInvite = z
  .object({
    max_uses: z.number().int().min(1).max(10_000).optional().describe('Unlimited when absent.'),
    expires_in_hours: z.number().int().min(1).max(8760).optional().describe('Never expires when absent.'),
  })
  .meta({ id: 'CreateCommunityInvite' });

export const CommunityInvite = z
  .object({
    code: z.string(),
    community_id: z.string(),
    created_by: z.string().nullable(),
    max_uses: z.number().int().nullable(),
    uses: z.number().int(),
    expires_at: z.number().int().nullable(),
    revoked: z.boolean(),
    created_at: z.number().int(),
  })
  .meta({ id: 'CommunityInvite' });
export const CommunityInviteList = z.object({ invites: z.array(CommunityInvite) }).meta({ id: 'CommunityInviteList' });

/** What anyone holding an invite code may see before joining. */
export const CommunityInvitePreview = z
  .object({
    code: z.string(),
    community: z.object({
      name: z.string(),
      description: z.string(),
      icon_url: z.string().nullable(),
      member_count: z.number().int(),
    }),
  })
  .meta({ id: 'CommunityInvitePreview' });

export const CommunityJoinResult = z
  .object({
    joined: z.boolean().describe('False when the caller was a member already (the invite was not used).'),
    community: Community,
  })
  .meta({ id: 'CommunityJoinResult' });

export const CommunityMember = z
  .object({
    user_id: z.string(),
    username: z.string(),
    display_name: z.string(),
    avatar_url: z.string().nullable(),
    role: CommunityRole,
    nickname: z.string().nullable(),
    joined_at: z.number().int(),
    /** Live presence as others see it (`invisible` reads as `offline`). */
    presence: z.enum(['online', 'idle', 'dnd', 'offline']),
  })
  .meta({ id: 'CommunityMember' });

export const CommunityMemberListQuery = z.object({
  after: z.string().max(64).optional().describe('Cursor: the `next_cursor` of the previous page.'),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});
export const CommunityMemberList = z
  .object({ members: z.array(CommunityMember), next_cursor: z.string().nullable() })
  .meta({ id: 'CommunityMemberList' });

export const UpdateCommunityMember = z
  .object({
    role: AssignableCommunityRole.optional().describe('Only a role strictly lower than the caller’s.'),
    nickname: CommunityNickname.nullable().optional().describe('`null` or an empty string clears it.'),
  })
  .refine((b) => b.role !== undefined || b.nickname !== undefined, { message: 'Give role or nickname' })
  .meta({ id: 'UpdateCommunityMember' });

export const CreateCommunityBan = z
  .object({ user_id: z.string().min(1).max(64), reason: z.string().max(500).optional() })
  .meta({ id: 'CreateCommunityBan' });

export const CommunityBan = z
  .object({
    user_id: z.string(),
    username: z.string(),
    display_name: z.string(),
    avatar_url: z.string().nullable(),
    reason: z.string(),
    banned_by: z.string().nullable(),
    created_at: z.number().int(),
  })
  .meta({ id: 'CommunityBan' });
export const CommunityBanList = z.object({ bans: z.array(CommunityBan) }).meta({ id: 'CommunityBanList' });

export type Community = z.infer<typeof Community>;
export type CommunityMember = z.infer<typeof CommunityMember>;
export type CommunityInvite = z.infer<typeof CommunityInvite>;

import { z } from 'zod';

/** Limits of direct messages and user search (PRODUCT.md §3). */
export const DM_LIMITS = {
  /** People in a group DM, its creator included. */
  groupDmMembers: 10,
  /** Length of a group DM's name. */
  nameLength: 64,
  /** Most results one user search returns. */
  searchResults: 20,
} as const;

const UserId = z.string().min(1).max(64);

/** Who someone is, as shown next to their messages, in DM lists and search results. */
export const UserCard = z
  .object({
    id: z.string(),
    username: z.string(),
    display_name: z.string(),
    avatar_url: z.string().nullable(),
  })
  .meta({ id: 'UserCard' });

/** Presence as others see it: `invisible` is never shown, it reads as `offline`. */
export const PublicPresence = z.enum(['online', 'idle', 'dnd', 'offline']);
export type PublicPresence = z.infer<typeof PublicPresence>;

/** A user's public profile, visible to people who share a community with them. */
export const UserProfile = z
  .object({
    ...UserCard.shape,
    banner_url: z.string().nullable(),
    bio: z.string(),
    pronouns: z.string(),
    custom_status: z.string(),
    presence: PublicPresence,
  })
  .meta({ id: 'UserProfile' });

export const UserSearchQuery = z.object({
  q: z.string().trim().min(1).max(64).describe('Prefix of a username or display name, case-insensitive.'),
  limit: z.coerce.number().int().min(1).max(DM_LIMITS.searchResults).default(10),
});

export const UserSearchResults = z.object({ users: z.array(UserCard) }).meta({ id: 'UserSearchResults' });

export const DmKind = z.enum(['dm', 'group_dm']);

/** A 1:1 or group DM as one of its members sees it. */
export const Dm = z
  .object({
    id: z.string().describe('The DM channel id.'),
    kind: DmKind,
    name: z.string().describe('Group DMs only; empty when unnamed and always empty for 1:1 DMs.'),
    members: z.array(UserCard).describe('The other members (not the caller).'),
    created_at: z.number().int(),
    updated_at: z.number().int(),
  })
  .meta({ id: 'Dm' });

export const DmList = z.object({ dms: z.array(Dm) }).meta({ id: 'DmList' });

export const OpenDmRequest = z.object({ user_id: UserId }).meta({ id: 'OpenDmRequest' });

export const CreateGroupDmRequest = z
  .object({
    user_ids: z
      .array(UserId)
      .min(2)
      .max(DM_LIMITS.groupDmMembers - 1)
      .describe('The other people: 2–9, the creator is added automatically.'),
    name: z.string().trim().max(DM_LIMITS.nameLength).optional(),
  })
  .meta({ id: 'CreateGroupDmRequest' });

export const AddDmMemberRequest = z.object({ user_id: UserId }).meta({ id: 'AddDmMemberRequest' });

export const UpdateGroupDmRequest = z
  .object({ name: z.string().trim().max(DM_LIMITS.nameLength).describe('Empty clears the name.') })
  .meta({ id: 'UpdateGroupDmRequest' });

export const BlockRequest = z.object({ user_id: UserId }).meta({ id: 'BlockRequest' });

export const BlockedUser = z.object({ user: UserCard, created_at: z.number().int() }).meta({ id: 'BlockedUser' });

export const BlockList = z.object({ blocks: z.array(BlockedUser) }).meta({ id: 'BlockList' });

export type UserCard = z.infer<typeof UserCard>;
export type UserProfile = z.infer<typeof UserProfile>;
export type Dm = z.infer<typeof Dm>;
export type BlockedUser = z.infer<typeof BlockedUser>;

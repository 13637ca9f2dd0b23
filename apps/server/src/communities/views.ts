import type { Community, CommunityBan, CommunityInvite, CommunityMember, PublicPresence } from '@chatalot/protocol';
import type { Selectable } from 'kysely';
import type { z } from 'zod';
import type { CommunitiesTable, CommunityInvitesTable, CommunityRole } from '../db/schema.js';

/** The public URL of a stored asset, or null. */
export const assetUrl = (asset: string | null): string | null => (asset ? `/api/assets/${asset}` : null);

/** The stored theme JSON, read defensively: a row written by an older version still renders. */
export function parseTheme(json: string): { colors: Record<string, string>; css: string } {
  try {
    const value = JSON.parse(json) as { colors?: unknown; css?: unknown };
    const colors: Record<string, string> = {};
    if (value.colors && typeof value.colors === 'object') {
      for (const [k, v] of Object.entries(value.colors)) if (typeof v === 'string') colors[k] = v;
    }
    return { colors, css: typeof value.css === 'string' ? value.css : '' };
  } catch {
    return { colors: {}, css: '' };
  }
}

/** A community as its members (and instance admins) see it. */
export function toCommunity(
  row: Selectable<CommunitiesTable>,
  memberCount: number,
  myRole: CommunityRole | null,
): z.input<typeof Community> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    welcome_message: row.welcome_message,
    icon_url: assetUrl(row.icon_asset),
    banner_url: assetUrl(row.banner_asset),
    theme: parseTheme(row.theme),
    who_can_create_groups: row.who_can_create_groups,
    who_can_create_invites: row.who_can_create_invites,
    discoverable: row.discoverable === 1,
    owner_id: row.owner_id,
    member_count: memberCount,
    my_role: myRole,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export const toInvite = (row: Selectable<CommunityInvitesTable>): z.input<typeof CommunityInvite> => ({
  code: row.code,
  community_id: row.community_id,
  created_by: row.created_by,
  max_uses: row.max_uses,
  uses: row.uses,
  expires_at: row.expires_at,
  revoked: row.revoked_at !== null,
  created_at: row.created_at,
});

export interface MemberRow {
  user_id: string;
  username: string;
  display_name: string;
  avatar_asset: string | null;
  role: CommunityRole;
  nickname: string | null;
  joined_at: number;
}

export const toMember = (row: MemberRow, presence: PublicPresence): z.input<typeof CommunityMember> => ({
  user_id: row.user_id,
  username: row.username,
  display_name: row.display_name,
  avatar_url: assetUrl(row.avatar_asset),
  role: row.role,
  nickname: row.nickname,
  joined_at: row.joined_at,
  presence,
});

export interface BanRow {
  user_id: string;
  username: string;
  display_name: string;
  avatar_asset: string | null;
  reason: string;
  banned_by: string | null;
  created_at: number;
}

export const toBan = (row: BanRow): z.input<typeof CommunityBan> => ({
  user_id: row.user_id,
  username: row.username,
  display_name: row.display_name,
  avatar_url: assetUrl(row.avatar_asset),
  reason: row.reason,
  banned_by: row.banned_by,
  created_at: row.created_at,
});

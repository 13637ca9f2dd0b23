import type { Channel, Group, GroupInvite, GroupMember } from '@chatalot/protocol';
import type { Selectable } from 'kysely';
import type { z } from 'zod';
import { assetUrl } from '../communities/views.js';
import type { ChannelsTable, GroupInvitesTable, GroupsTable } from '../db/schema.js';

/** A group as one user sees it: whether they joined, their group role, the member count. */
export function toGroup(
  row: Selectable<GroupsTable>,
  memberCount: number,
  myRole: 'admin' | 'member' | null,
): z.input<typeof Group> {
  return {
    id: row.id,
    community_id: row.community_id,
    name: row.name,
    description: row.description,
    visibility: row.visibility,
    discoverable: row.discoverable === 1,
    icon_url: assetUrl(row.icon_asset),
    banner_url: assetUrl(row.banner_asset),
    accent_color: row.accent_color,
    personal_owner_id: row.personal_owner_id,
    members_can_invite: row.members_can_invite === 1,
    member_count: memberCount,
    joined: myRole !== null,
    my_role: myRole,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** A channel; `communityId` is null for DMs. */
export function toChannel(row: Selectable<ChannelsTable>, communityId: string | null): z.input<typeof Channel> {
  return {
    id: row.id,
    group_id: row.group_id,
    community_id: communityId,
    kind: row.kind,
    name: row.name,
    topic: row.topic,
    read_only: row.read_only === 1,
    slow_mode_secs: row.slow_mode_secs,
    archived: row.archived_at !== null,
    archived_at: row.archived_at,
    message_ttl_secs: row.message_ttl_secs,
    voice_background: row.voice_background,
    position: row.position,
    created_by: row.created_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export interface GroupMemberRow {
  user_id: string;
  username: string;
  display_name: string;
  avatar_asset: string | null;
  role: 'admin' | 'member';
  joined_at: number;
}

export const toGroupMember = (row: GroupMemberRow): z.input<typeof GroupMember> => ({
  user_id: row.user_id,
  username: row.username,
  display_name: row.display_name,
  avatar_url: assetUrl(row.avatar_asset),
  role: row.role,
  joined_at: row.joined_at,
});

export const toGroupInvite = (row: Selectable<GroupInvitesTable>): z.input<typeof GroupInvite> => ({
  code: row.code,
  group_id: row.group_id,
  created_by: row.created_by,
  max_uses: row.max_uses,
  uses: row.uses,
  expires_at: row.expires_at,
  revoked: row.revoked_at !== null,
  created_at: row.created_at,
});

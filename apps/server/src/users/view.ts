import type { AccountUser } from '@chatalot/protocol';
import type { z } from 'zod';
import type { UserRow } from './repo.js';

const assetUrl = (asset: string | null) => (asset ? `/api/assets/${asset}` : null);

/** The signed-in user's view of their own account. */
export function toAccountUser(row: UserRow): z.input<typeof AccountUser> {
  return {
    id: row.id,
    username: row.username,
    display_name: row.display_name,
    email: row.email,
    instance_role: row.instance_role,
    avatar_url: assetUrl(row.avatar_asset),
    banner_url: assetUrl(row.banner_asset),
    bio: row.bio,
    pronouns: row.pronouns,
    custom_status: row.custom_status,
    presence: row.presence as 'online' | 'idle' | 'dnd' | 'invisible',
    totp_enabled: row.totp_enabled_at !== null,
    created_at: row.created_at,
  };
}

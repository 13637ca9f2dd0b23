import type { UserCard, UserProfile } from '@chatalot/protocol';
import type { Selectable } from 'kysely';
import type { UsersTable } from '../db/schema.js';

/** The user columns a card needs; select exactly these for lists. */
export const CARD_COLUMNS = ['id', 'username', 'display_name', 'avatar_asset'] as const;

export type CardRow = Pick<Selectable<UsersTable>, (typeof CARD_COLUMNS)[number]>;

const assetUrl = (asset: string | null) => (asset ? `/api/assets/${asset}` : null);

/** Who someone is, as others see them in lists. */
export function toUserCard(row: CardRow): UserCard {
  return { id: row.id, username: row.username, display_name: row.display_name, avatar_url: assetUrl(row.avatar_asset) };
}

/**
 * A public profile with live presence (from the gateway state, where `invisible` and "no
 * socket" both read as `offline`).
 */
export function toUserProfile(row: Selectable<UsersTable>, presence: UserProfile['presence']): UserProfile {
  return {
    ...toUserCard(row),
    banner_url: assetUrl(row.banner_asset),
    bio: row.bio,
    pronouns: row.pronouns,
    custom_status: row.custom_status,
    presence,
  };
}

import type { CommunityInvite } from '$lib/api/spaces';

/** The invite made for each community during this visit, reused when the dialog opens again. */
export const inviteCache = new Map<string, CommunityInvite>();

export function stillUsable(invite: CommunityInvite, now = Date.now()): boolean {
  return (
    !invite.revoked &&
    (invite.expires_at === null || invite.expires_at > now + 60_000) &&
    (invite.max_uses === null || invite.uses < invite.max_uses)
  );
}

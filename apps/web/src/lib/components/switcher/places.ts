/**
 * The places the user can go, in sidebar order: each community (rail order) with its joined
 * groups' channels (sidebar order), then the DMs (newest first, as the DM list shows them).
 * The quick switcher searches them; the Alt+↑/↓ shortcuts step through them.
 *
 * Everything comes in through `PlaceSource` (the workspace, in the app) so this stays plain
 * TypeScript that tests can feed directly.
 */
import type { Channel, Community, Dm, Group } from '@chatalot/protocol';
import type { SwitcherItem } from './switcher-search';

export interface PlaceSource {
  communities: readonly Community[];
  dms: readonly Dm[];
  /** The groups of a community the user belongs to (empty while loading). */
  groups(communityId: string): readonly Group[];
  channels(groupId: string): readonly Channel[];
  badge(channelId: string): { unread: boolean; mentions: number };
  dmTitle(dm: Dm): string;
  communityHref(communityId: string): string;
  channelHref(communityId: string, channelId: string): string;
  dmHref(dmId: string): string;
}

/** A channel or DM that can be opened and read: what Alt+↑/↓ steps through. */
export interface Stop {
  channelId: string;
  /** The community it belongs to; null for DMs. */
  communityId: string | null;
  href: string;
  unread: boolean;
}

/** Every community, channel and DM as switcher rows, in sidebar order. */
export function switcherItems(source: PlaceSource): SwitcherItem[] {
  const items: SwitcherItem[] = [];
  for (const community of source.communities) {
    let unread = false;
    let mentions = 0;
    const channelRows: SwitcherItem[] = [];
    for (const group of source.groups(community.id)) {
      for (const channel of source.channels(group.id)) {
        const badge = source.badge(channel.id);
        unread ||= badge.unread;
        mentions += badge.mentions;
        channelRows.push({
          key: `channel:${channel.id}`,
          kind: 'channel',
          label: channel.name,
          context: group.name === community.name ? community.name : `${community.name} · ${group.name}`,
          terms: [community.name, group.name],
          href: source.channelHref(community.id, channel.id),
          unread: badge.unread,
          mentions: badge.mentions,
        });
      }
    }
    items.push({
      key: `community:${community.id}`,
      kind: 'community',
      label: community.name,
      context: 'Community',
      terms: [],
      href: source.communityHref(community.id),
      unread,
      mentions,
    });
    items.push(...channelRows);
  }
  for (const dm of source.dms) {
    const badge = source.badge(dm.id);
    items.push({
      key: `dm:${dm.id}`,
      kind: 'dm',
      label: source.dmTitle(dm),
      context: dm.kind === 'group_dm' ? 'Group message' : 'Direct message',
      terms: dm.members.flatMap((m) => [m.display_name, m.username]),
      href: source.dmHref(dm.id),
      unread: badge.unread,
      // Every unread DM message is addressed to the user, as the DM list counts them.
      mentions: badge.unread ? Math.max(badge.mentions, 1) : 0,
    });
  }
  return items;
}

/** Channels (voice and archived ones left out) and DMs, in sidebar order. */
export function stops(source: PlaceSource): Stop[] {
  const list: Stop[] = [];
  for (const community of source.communities) {
    for (const group of source.groups(community.id)) {
      for (const channel of source.channels(group.id)) {
        if (channel.kind === 'voice' || channel.archived) continue;
        list.push({
          channelId: channel.id,
          communityId: community.id,
          href: source.channelHref(community.id, channel.id),
          unread: source.badge(channel.id).unread,
        });
      }
    }
  }
  for (const dm of source.dms) {
    list.push({ channelId: dm.id, communityId: null, href: source.dmHref(dm.id), unread: source.badge(dm.id).unread });
  }
  return list;
}

/**
 * The previous (-1) or next (+1) stop from the current channel, wrapping around. Plain steps
 * stay in the current sidebar (the community's channels, or the DMs); `unreadOnly` looks
 * everywhere for the nearest unread one. Null when there is nowhere to go.
 */
export function step(
  list: readonly Stop[],
  current: { channelId: string | null; communityId: string | null },
  direction: 1 | -1,
  unreadOnly = false,
): Stop | null {
  const candidates = unreadOnly ? list : list.filter((s) => s.communityId === current.communityId);
  if (candidates.length === 0) return null;
  const at = candidates.findIndex((s) => s.channelId === current.channelId);
  // Not on a channel (a community's settings, home): start just outside the list.
  const start = at >= 0 ? at : direction === 1 ? -1 : candidates.length;
  for (let i = 1; i <= candidates.length; i++) {
    const index = (((start + direction * i) % candidates.length) + candidates.length) % candidates.length;
    const stop = candidates[index]!;
    if (stop.channelId === current.channelId) continue;
    if (!unreadOnly || stop.unread) return stop;
  }
  return null;
}

/**
 * Names for search: the people and conversations the workspace knows, to label results and to
 * fill the "from" and "in" filters, and the path that opens a conversation.
 */
import { resolve } from '$app/paths';
import { dmTitle } from '$lib/dm';
import { session } from '$lib/session.svelte';
import { workspace } from '$lib/workspace.svelte';

export interface Place {
  id: string;
  /** "#general" or a DM's title. */
  label: string;
  /** How a search result names it: "#general", or "DM · Grace Hopper". */
  short: string;
  /** The community's name, or "Direct messages". */
  group: string;
  href: string;
}

export interface Person {
  id: string;
  name: string;
}

/** Every channel and DM in the sidebar. */
export function places(): Place[] {
  const out: Place[] = [];
  for (const channel of workspace.channelIndex.values()) {
    if (!channel.community_id || channel.kind === 'voice') continue;
    out.push({
      id: channel.id,
      label: `#${channel.name}`,
      short: `#${channel.name}`,
      group: workspace.community(channel.community_id)?.name ?? 'Community',
      href: resolve('/(app)/c/[communityId]/[channelId]', { communityId: channel.community_id, channelId: channel.id }),
    });
  }
  for (const dm of workspace.dms ?? []) {
    out.push({
      id: dm.id,
      label: dmTitle(dm),
      short: `DM · ${dmTitle(dm)}`,
      group: 'Direct messages',
      href: resolve('/(app)/dm/[channelId]', { channelId: dm.id }),
    });
  }
  return out.sort((a, b) => a.group.localeCompare(b.group) || a.label.localeCompare(b.label));
}

/** Everyone whose name is known here: the signed-in user, DM partners, community members. */
export function people(): Person[] {
  // Built whole on each call (read from reactive state by the caller): a plain Map is right.
  const byId = new Map<string, string>();
  const me = session.user;
  if (me) byId.set(me.id, me.display_name);
  for (const dm of workspace.dms ?? []) for (const m of dm.members) byId.set(m.id, m.display_name);
  for (const list of workspace.members.values()) for (const m of list) byId.set(m.user_id, m.display_name);
  return [...byId].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
}

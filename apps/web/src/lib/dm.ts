import type { Dm } from '$lib/api/spaces';

/** A DM's title: the other person's name, or a group DM's name (or its members' names). */
export function dmTitle(dm: Dm): string {
  if (dm.kind === 'group_dm' && dm.name.trim()) return dm.name;
  const names = dm.members.map((m) => m.display_name);
  if (names.length === 0) return 'Just you';
  if (dm.kind === 'dm') return names[0]!;
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}

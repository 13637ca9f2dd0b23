/** Words for reactions and typing: "Ada and Grace reacted with 👍", "Ada is typing…". */
const list = new Intl.ListFormat(undefined, { style: 'long', type: 'conjunction' });

export function joinNames(names: readonly string[], max = 8): string {
  if (names.length <= max) return list.format(names);
  const more = names.length - max;
  return list.format([...names.slice(0, max), `${more} other${more === 1 ? '' : 's'}`]);
}

export function reactedWith(names: readonly string[], emoji: string): string {
  return `${joinNames(names)} reacted with ${emoji}`;
}

export function typingText(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length <= 3) return `${list.format(names)} are typing…`;
  return 'Several people are typing…';
}

/** The reactions offered in the picker. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀', '✅', '🔥'] as const;

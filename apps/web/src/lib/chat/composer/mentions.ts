/**
 * Mentions: the `@` popup's candidates, and which people a message mentions.
 *
 * A mention is written as `@username` in the text. The server cannot read the text, so the
 * client also sends the mentioned user ids (and whether @everyone, @here or @channel was used)
 * beside the ciphertext; the server counts unread mentions from that list.
 */

/** Someone who can be mentioned here. */
export interface Mentionable {
  id: string;
  username: string;
  /** As shown in this conversation (a community nickname, say). */
  name: string;
}

/**
 * The people of a conversation as the `@` popup offers them: everyone but oneself, named as
 * the conversation names them (`nameOf`: community nicknames, say).
 */
export function mentionables(
  people: readonly { id: string; username: string }[],
  me: string | undefined,
  nameOf: (id: string) => string,
): Mentionable[] {
  return people.filter((p) => p.id !== me).map((p) => ({ id: p.id, username: p.username, name: nameOf(p.id) }));
}

/** A popup row: a person, or one of the words that notify everyone in a channel. */
export type MentionOption =
  { kind: 'user'; user: Mentionable } | { kind: 'everyone'; word: EveryoneWord; description: string };

export const EVERYONE_WORDS = ['everyone', 'here', 'channel'] as const;
export type EveryoneWord = (typeof EVERYONE_WORDS)[number];

const EVERYONE_DESCRIPTIONS: Record<EveryoneWord, string> = {
  everyone: 'Notify everyone in this channel',
  here: 'Notify everyone online in this channel',
  channel: 'Notify everyone in this channel',
};

/** 0 starts the username, 1 starts a word of the name, 2 contains; null when nothing matches. */
function rankOf(user: Mentionable, q: string): number | null {
  const username = user.username.toLowerCase();
  const name = user.name.toLowerCase();
  if (username.startsWith(q)) return 0;
  if (name.split(/\s+/).some((word) => word.startsWith(q))) return 1;
  if (username.includes(q) || name.includes(q)) return 2;
  return null;
}

/**
 * The popup's rows for `query` (what follows "@"): matching people, best first, then the
 * @everyone words in channels.
 */
export function matchMentions(
  members: readonly Mentionable[],
  query: string,
  options: { everyone: boolean; limit?: number },
): MentionOption[] {
  const q = query.toLowerCase();
  const people = members
    .map((user) => ({ user, rank: rankOf(user, q) }))
    .filter((m): m is { user: Mentionable; rank: number } => m.rank !== null)
    .sort((a, b) => a.rank - b.rank || a.user.name.localeCompare(b.user.name))
    .map((m): MentionOption => ({ kind: 'user', user: m.user }));
  const everyone = options.everyone
    ? EVERYONE_WORDS.filter((word) => word.startsWith(q)).map((word): MentionOption => ({
        kind: 'everyone',
        word,
        description: EVERYONE_DESCRIPTIONS[word],
      }))
    : [];
  return [...people, ...everyone].slice(0, options.limit ?? 8);
}

/** The text an option inserts (without the trailing space). */
export function mentionText(option: MentionOption): string {
  return option.kind === 'user' ? `@${option.user.username}` : `@${option.word}`;
}

/** Where `@word` ends: not inside a longer username (`@ada` is not in `@ada.l` or `@adam`). */
function mentionAt(lower: string, word: string): boolean {
  const needle = `@${word.toLowerCase()}`;
  for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + 1)) {
    const before = at === 0 ? '' : lower[at - 1]!;
    const after = lower.slice(at + needle.length, at + needle.length + 2);
    if (/[a-z0-9_.-]/.test(before)) continue;
    if (/^[a-z0-9_]/.test(after) || /^[.-][a-z0-9_]/.test(after)) continue;
    return true;
  }
  return false;
}

/** Who a message mentions, sent beside the ciphertext (the server cannot read the text). */
export interface SendMentions {
  mentions: string[];
  mention_everyone: boolean;
}

/** The ids a message mentions, and whether it notifies everyone (channels only). */
export function mentionsIn(
  text: string,
  members: readonly Mentionable[],
  options: { everyone: boolean; limit: number },
): SendMentions {
  const lower = text.toLowerCase();
  const mentions = members.filter((m) => mentionAt(lower, m.username)).map((m) => m.id);
  const everyone = options.everyone && EVERYONE_WORDS.some((word) => mentionAt(lower, word));
  return { mentions: [...new Set(mentions)].slice(0, options.limit), mention_everyone: everyone };
}

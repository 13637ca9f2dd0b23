/**
 * What the person is typing at the caret that a popup can complete: an emoji shortcode
 * (`:tad`), a mention (`@gr`) or a slash command (`/shr` at the very start of the message).
 * Pure functions over the text and the caret position, so the popups stay predictable.
 */

export type TriggerKind = 'emoji' | 'mention' | 'command';

export interface Trigger {
  kind: TriggerKind;
  /** What follows the sigil, up to the caret. */
  query: string;
  /** Where the sigil is: the completion replaces text[start, end). */
  start: number;
  /** The caret. */
  end: number;
}

/** Shortcodes need two characters before the popup opens (`:)` and `10:30` stay quiet). */
export const MIN_EMOJI_QUERY = 2;

const SHORTCODE_CHARS = /^[a-z0-9_+-]*$/i;
const MENTION_CHARS = /^[a-z0-9_.-]*$/i;
const COMMAND_CHARS = /^[a-z]*$/i;

/** A sigil starts a token only at the start of the text or after a space or an opening bracket. */
function startsToken(text: string, at: number): boolean {
  if (at === 0) return true;
  return /[\s([{"'“‘]/.test(text[at - 1]!);
}

/** The trigger that ends at `caret`, if any. */
export function findTrigger(text: string, caret: number): Trigger | null {
  if (caret < 0 || caret > text.length) return null;
  const before = text.slice(0, caret);

  // A slash command: "/" as the first character and no space yet.
  if (before.startsWith('/') && COMMAND_CHARS.test(before.slice(1))) {
    return { kind: 'command', query: before.slice(1), start: 0, end: caret };
  }

  // The last ":" or "@" before the caret, with only token characters after it.
  for (let i = before.length - 1; i >= 0 && i >= before.length - 64; i--) {
    const ch = before[i]!;
    const query = before.slice(i + 1);
    if (ch === ':') {
      if (!SHORTCODE_CHARS.test(query) || query.length < MIN_EMOJI_QUERY || !startsToken(text, i)) return null;
      return { kind: 'emoji', query, start: i, end: caret };
    }
    if (ch === '@') {
      if (!MENTION_CHARS.test(query) || !startsToken(text, i)) return null;
      return { kind: 'mention', query, start: i, end: caret };
    }
    if (!/[a-z0-9_.+-]/i.test(ch)) return null;
  }
  return null;
}

/** A shortcode typed in full just before the caret (`…:smile:`), with where it starts. */
export function completedShortcode(text: string, caret: number): { code: string; start: number } | null {
  const match = /(^|[\s([{"'“‘]):([a-z0-9_+-]{2,64}):$/i.exec(text.slice(0, caret));
  if (!match) return null;
  return { code: match[2]!.toLowerCase(), start: match.index + match[1]!.length };
}

/** `text` with [start, end) replaced by `insert`, and the caret just after the insertion. */
export function replaceRange(
  text: string,
  start: number,
  end: number,
  insert: string,
): { text: string; caret: number } {
  return { text: text.slice(0, start) + insert + text.slice(end), caret: start + insert.length };
}

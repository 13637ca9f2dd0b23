/**
 * The quick switcher's search: what can be jumped to (communities, channels, DMs) and how a
 * query ranks them. Plain data in, plain data out, so it is tested without a browser.
 *
 * Matching is "fuzzy-ish": each word of the query must be found in the item's name or in one of
 * its other terms (community, group, DM members' names), as a prefix, a word start, a substring
 * or at least as letters in order ("gnrl" finds "general"). Name matches weigh more than term
 * matches, and earlier, tighter matches more than loose ones. With an empty query, unread places
 * come first (those with mentions first), then everything in sidebar order.
 */

export type SwitcherKind = 'community' | 'channel' | 'dm';

export interface SwitcherItem {
  /** Unique across kinds: `channel:ID`, `community:ID`, `dm:ID`. */
  key: string;
  kind: SwitcherKind;
  /** What the row shows first: the channel's, community's or DM's name. */
  label: string;
  /** Where it is, shown after the label: "Community · Group", "Direct message", … */
  context: string;
  /** Other words it can be found by (community and group names, DM members' user names). */
  terms: string[];
  href: string;
  unread: boolean;
  mentions: number;
}

export interface RankedItem extends SwitcherItem {
  score: number;
}

/** Scores a name match this much more than a match in the item's other terms. */
const TERM_WEIGHT = 0.5;
/** At most this many rows: enough to scroll, few enough to render at once. */
export const MAX_RESULTS = 50;

/** Lowercase, without accents, without a leading `#` or `@` (people type them out of habit). */
export function normalize(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .trim()
    .replace(/^[#@]+/, '');
}

const WORD_BREAK = /[\s\-_.·,/]/;

/** How well one query word matches a text (both normalised); null when it does not. */
export function matchWord(word: string, text: string): number | null {
  if (!word) return 0;
  if (text === word) return 1000;
  if (text.startsWith(word)) return 800 + lengthBonus(word, text);
  const index = text.indexOf(word);
  if (index < 0) return subsequence(word, text);
  for (let at = index; at >= 0; at = text.indexOf(word, at + 1)) {
    if (WORD_BREAK.test(text[at - 1]!)) return 600 + lengthBonus(word, text);
  }
  return 400 - Math.min(index, 100);
}

/** Shorter texts win among equally good matches ("gen" ranks "general" over "general-chat"). */
function lengthBonus(word: string, text: string): number {
  return Math.round((word.length / text.length) * 50);
}

/** Letters in order ("gnrl" in "general"): scored by how close together they are. */
function subsequence(word: string, text: string): number | null {
  let at = 0;
  let gaps = 0;
  for (const char of word) {
    const found = text.indexOf(char, at);
    if (found < 0) return null;
    if (found > at) gaps += found - at;
    at = found + 1;
  }
  // Too spread out is noise, not a match ("ae" would otherwise find nearly everything).
  if (gaps > word.length * 3) return null;
  return Math.max(1, 200 - gaps * 10);
}

/** The item's score for a query, or null when some query word matches nothing. */
export function scoreItem(item: SwitcherItem, query: string): number | null {
  const words = normalize(query).split(/\s+/).filter(Boolean);
  const label = normalize(item.label);
  const terms = item.terms.map(normalize);
  let total = 0;
  for (const word of words) {
    let best = matchWord(word, label);
    for (const term of terms) {
      const score = matchWord(word, term);
      if (score !== null) best = Math.max(best ?? 0, score * TERM_WEIGHT);
    }
    if (best === null) return null;
    total += best;
  }
  return total;
}

/**
 * Mentions, then unread, then neither. A community's row only sums up its channels, which are
 * listed themselves, so it does not jump ahead of them.
 */
function urgency(item: SwitcherItem): number {
  if (item.kind === 'community') return 0;
  return item.mentions > 0 ? 2 : item.unread ? 1 : 0;
}

/**
 * The rows for a query, best first. `items` come in sidebar order, which breaks ties (and is
 * the order of everything that is not unread when the query is empty).
 */
export function rankItems(items: readonly SwitcherItem[], query: string, limit = MAX_RESULTS): RankedItem[] {
  const ranked: { item: RankedItem; order: number }[] = [];
  items.forEach((item, order) => {
    const score = scoreItem(item, query);
    if (score !== null) ranked.push({ item: { ...item, score }, order });
  });
  const empty = normalize(query) === '';
  ranked.sort((a, b) => {
    if (!empty && a.item.score !== b.item.score) return b.item.score - a.item.score;
    const byUrgency = urgency(b.item) - urgency(a.item);
    if (byUrgency !== 0) return byUrgency;
    if (empty && a.item.kind !== 'community' && b.item.kind !== 'community' && a.item.mentions !== b.item.mentions) {
      return b.item.mentions - a.item.mentions;
    }
    return a.order - b.order;
  });
  return ranked.slice(0, limit).map((r) => r.item);
}

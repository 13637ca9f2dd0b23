/**
 * The Unicode emoji set with shortcodes, and the search the `:shortcode:` popup uses.
 *
 * The data (emojibase-data: the compact English set, GitHub's shortcodes merged with CLDR's) is
 * large, so `loadEmoji` reads it with a dynamic import: it becomes a chunk of its own, fetched
 * the first time someone types a shortcode, and the app's first load does not grow. Skin tone
 * variants (and the skin tone and hair swatches) are left out.
 */

/**
 * Colour emoji fonts before the text ones: without it Linux browsers draw many emoji in the
 * page font's black-and-white glyphs.
 */
export const EMOJI_FONT = "font-['Apple_Color_Emoji','Segoe_UI_Emoji','Noto_Color_Emoji',sans-serif]";

/** One emoji as the composer offers it. */
export interface EmojiEntry {
  emoji: string;
  /** Lower case, the preferred one (GitHub's, which people know from chat apps) first. */
  shortcodes: string[];
  /** "party popper". */
  label: string;
  /** emojibase group number (0 = smileys & emotion …); -1 for the few without one. */
  group: number;
  order: number;
}

/** The fields of emojibase's compact data that are read here. */
export interface CompactEmoji {
  unicode: string;
  hexcode: string;
  label: string;
  group?: number;
  order?: number;
}

/** emojibase shortcode files map a hexcode to one shortcode or several. */
export type ShortcodeSet = Record<string, string | string[]>;

export interface EmojiIndex {
  entries: EmojiEntry[];
  /** Every shortcode to its emoji, for `:code:` typed in full. */
  byShortcode: Map<string, EmojiEntry>;
}

/** emojibase's "components" group: skin tone and hair swatches, not emoji to send on their own. */
const COMPONENT_GROUP = 2;

function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Joins the emoji with their shortcodes; earlier sets win where a shortcode repeats. */
export function buildEmojiIndex(emoji: readonly CompactEmoji[], sets: readonly ShortcodeSet[]): EmojiIndex {
  const entries: EmojiEntry[] = [];
  const byHexcode = new Map<string, EmojiEntry>();
  for (const e of emoji) {
    if (e.group === COMPONENT_GROUP) continue;
    const codes = [...new Set(sets.flatMap((set) => asList(set[e.hexcode])).map((c) => c.toLowerCase()))];
    if (codes.length === 0) continue;
    const entry: EmojiEntry = {
      emoji: e.unicode,
      shortcodes: codes,
      label: e.label,
      group: e.group ?? -1,
      order: e.order ?? Number.MAX_SAFE_INTEGER,
    };
    entries.push(entry);
    byHexcode.set(e.hexcode, entry);
  }
  // Shortcodes are claimed set by set, so a later set never takes a code an earlier one uses.
  const byShortcode = new Map<string, EmojiEntry>();
  for (const set of sets) {
    for (const [hexcode, entry] of byHexcode) {
      for (const code of asList(set[hexcode])) {
        const key = code.toLowerCase();
        if (!byShortcode.has(key)) byShortcode.set(key, entry);
      }
    }
  }
  entries.sort((a, b) => a.order - b.order);
  return { entries, byShortcode };
}

export interface EmojiMatch {
  entry: EmojiEntry;
  /** The shortcode that matched (shown in the popup and completed). */
  shortcode: string;
}

/** 0 exact, 1 prefix, 2 contains, or null. */
function rankOf(code: string, query: string): number | null {
  if (code === query) return 0;
  if (code.startsWith(query)) return 1;
  if (code.includes(query)) return 2;
  return null;
}

/**
 * Emoji whose shortcodes match `query`: exact matches first (the emoji that `:query:` stands
 * for before any other), then prefixes, then the rest that contain it; within a rank the
 * shorter shortcode first, then the usual emoji order.
 */
export function searchEmoji(index: EmojiIndex, query: string, limit = 8): EmojiMatch[] {
  const q = query.toLowerCase();
  if (!q) return [];
  const found: { match: EmojiMatch; rank: number }[] = [];
  for (const entry of index.entries) {
    let best: { shortcode: string; rank: number } | null = null;
    for (const code of entry.shortcodes) {
      const rank = rankOf(code, q);
      if (rank === null) continue;
      if (!best || rank < best.rank || (rank === best.rank && code.length < best.shortcode.length)) {
        best = { shortcode: code, rank };
      }
    }
    if (!best) continue;
    // Two emoji can share a code (GitHub's and CLDR's "smile"): the one it completes to first.
    const rank = best.rank === 0 && index.byShortcode.get(q) === entry ? -1 : best.rank;
    found.push({ match: { entry, shortcode: best.shortcode }, rank });
  }
  found.sort(
    (a, b) =>
      a.rank - b.rank ||
      a.match.shortcode.length - b.match.shortcode.length ||
      a.match.entry.order - b.match.entry.order,
  );
  return found.slice(0, limit).map((f) => f.match);
}

/** The emoji of one shortcode (`smile`, without colons), if it is one. */
export function emojiForShortcode(index: EmojiIndex, code: string): string | null {
  return index.byShortcode.get(code.toLowerCase())?.emoji ?? null;
}

let loading: Promise<EmojiIndex> | null = null;

/** The emoji index, read on first use (a separate chunk) and kept for the page's life. */
export function loadEmoji(): Promise<EmojiIndex> {
  loading ??= Promise.all([
    import('emojibase-data/en/compact.json'),
    import('emojibase-data/en/shortcodes/github.json'),
    import('emojibase-data/en/shortcodes/cldr.json'),
  ]).then(([compact, github, cldr]) =>
    buildEmojiIndex(compact.default as CompactEmoji[], [github.default as ShortcodeSet, cldr.default as ShortcodeSet]),
  );
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

/**
 * The emoji picker's content and keyboard movement: sections by category (or one of search
 * results), and where the arrow keys lead in a grid of sections whose last rows are not full.
 */
import { searchEmoji, type EmojiEntry, type EmojiIndex } from './emoji';

export interface EmojiSection {
  id: string;
  label: string;
  entries: EmojiEntry[];
}

/** emojibase's groups, in its order; the components group (skin tone swatches) is left out. */
export const EMOJI_GROUPS: readonly { group: number; label: string }[] = [
  { group: 0, label: 'Smileys & emotion' },
  { group: 1, label: 'People & body' },
  { group: 3, label: 'Animals & nature' },
  { group: 4, label: 'Food & drink' },
  { group: 5, label: 'Travel & places' },
  { group: 6, label: 'Activities' },
  { group: 7, label: 'Objects' },
  { group: 8, label: 'Symbols' },
  { group: 9, label: 'Flags' },
];

/** Search results are capped: a long list helps nobody find one emoji. */
export const MAX_RESULTS = 160;

/**
 * Without a query: every category. With one: a single section, shortcode matches first (ranked
 * as in the `:` popup), then emoji whose name contains the query ("party" finds 🎉).
 */
export function pickerSections(index: EmojiIndex, query: string): EmojiSection[] {
  const q = query.trim().toLowerCase();
  if (!q) {
    return EMOJI_GROUPS.map(({ group, label }) => ({
      id: `group-${group}`,
      label,
      entries: index.entries.filter((e) => e.group === group),
    })).filter((s) => s.entries.length > 0);
  }
  const ranked = searchEmoji(index, q.replace(/\s+/g, '_'), MAX_RESULTS).map((m) => m.entry);
  const seen = new Set(ranked);
  const named = index.entries.filter((e) => !seen.has(e) && e.label.toLowerCase().includes(q));
  return [{ id: 'results', label: 'Search results', entries: [...ranked, ...named].slice(0, MAX_RESULTS) }];
}

export type GridKey = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End';

/**
 * The flat index an arrow key leads to, in sections of `sizes` items laid out `cols` to a row
 * (each section starting a new row). Up and down keep the column where they can.
 */
export function gridMove(sizes: readonly number[], index: number, key: GridKey, cols: number): number {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const i = Math.min(Math.max(index, 0), total - 1);
  if (key === 'Home') return 0;
  if (key === 'End') return total - 1;
  if (key === 'ArrowLeft') return Math.max(0, i - 1);
  if (key === 'ArrowRight') return Math.min(total - 1, i + 1);

  // Which section, and where in it.
  let section = 0;
  let start = 0;
  while (i >= start + sizes[section]!) start += sizes[section++]!;
  const pos = i - start;
  const col = pos % cols;
  const size = sizes[section]!;

  if (key === 'ArrowUp') {
    if (pos >= cols) return i - cols;
    // Into the last row of the previous non-empty section.
    let s = section - 1;
    let prevStart = start;
    while (s >= 0 && sizes[s] === 0) s--;
    if (s < 0) return i;
    for (let k = section - 1; k >= s; k--) prevStart -= sizes[k]!;
    const lastRow = Math.floor((sizes[s]! - 1) / cols) * cols;
    return prevStart + Math.min(lastRow + col, sizes[s]! - 1);
  }
  // ArrowDown: the next row of this section, else the first row of the next non-empty one.
  if (pos + cols < size) return i + cols;
  const lastRowStart = Math.floor((size - 1) / cols) * cols;
  if (pos < lastRowStart) return start + size - 1; // a short last row below
  let s = section + 1;
  let nextStart = start + size;
  while (s < sizes.length && sizes[s] === 0) s++;
  if (s >= sizes.length) return i;
  for (let k = section + 1; k < s; k++) nextStart += sizes[k]!;
  return nextStart + Math.min(col, sizes[s]! - 1);
}

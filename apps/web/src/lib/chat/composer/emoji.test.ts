import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildEmojiIndex, emojiForShortcode, loadEmoji, searchEmoji, type CompactEmoji } from './emoji';

const SAMPLE: CompactEmoji[] = [
  { hexcode: '1F604', unicode: '😄', label: 'grinning face with smiling eyes', group: 0, order: 2 },
  { hexcode: '1F603', unicode: '😃', label: 'grinning face with big eyes', group: 0, order: 1 },
  { hexcode: '1F63C', unicode: '😼', label: 'cat with wry smile', group: 0, order: 50 },
  { hexcode: '1F642', unicode: '🙂', label: 'slightly smiling face', group: 0, order: 9 },
  { hexcode: '1F1E6', unicode: '🇦', label: 'regional indicator A' },
  { hexcode: '1F3FB', unicode: '🏻', label: 'light skin tone', group: 2, order: 9000 },
];
const GITHUB = { '1F604': 'smile', '1F603': 'smiley', '1F63C': 'smirk_cat', '1F642': 'slightly_smiling_face' };
const CLDR = {
  '1F3FB': 'light_skin_tone',
  '1F604': 'grinning_face_with_smiling_eyes',
  '1F603': 'smile',
  '1F63C': ['cat_smile', 'wry'],
};

describe('the emoji index', () => {
  const index = buildEmojiIndex(SAMPLE, [GITHUB, CLDR]);

  it('keeps emoji that have a shortcode, with every code, the first set’s first', () => {
    expect(index.entries.map((e) => e.emoji)).toEqual(['😃', '😄', '🙂', '😼']);
    expect(index.entries.find((e) => e.emoji === '😼')!.shortcodes).toEqual(['smirk_cat', 'cat_smile', 'wry']);
  });

  it('gives a shortcode claimed by two sets to the earlier set’s emoji', () => {
    expect(emojiForShortcode(index, 'smile')).toBe('😄');
    expect(emojiForShortcode(index, 'SMILEY')).toBe('😃');
    expect(emojiForShortcode(index, 'wry')).toBe('😼');
    expect(emojiForShortcode(index, 'nope')).toBeNull();
  });

  it('ranks exact, then prefix, then contains', () => {
    // The owner of an exact shortcode first, then other exact matches, then prefixes, then the rest.
    expect(searchEmoji(index, 'smile').map((m) => [m.entry.emoji, m.shortcode])).toEqual([
      ['😄', 'smile'],
      ['😃', 'smile'],
      ['😼', 'cat_smile'],
    ]);
    // Within a rank: the shorter shortcode, then the usual emoji order.
    expect(searchEmoji(index, 'Smi').map((m) => [m.entry.emoji, m.shortcode])).toEqual([
      ['😃', 'smile'],
      ['😄', 'smile'],
      ['😼', 'smirk_cat'],
      ['🙂', 'slightly_smiling_face'],
    ]);
    expect(searchEmoji(index, 'smi', 2)).toHaveLength(2);
    expect(searchEmoji(index, '')).toEqual([]);
  });

  it('only ever returns matching emoji, each once, exact before prefix before contains', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z_]{1,6}$/), (query) => {
        const found = searchEmoji(index, query, 50);
        const ranks = found.map(({ shortcode }) =>
          shortcode === query ? 0 : shortcode.startsWith(query) ? 1 : shortcode.includes(query) ? 2 : 3,
        );
        expect(ranks).not.toContain(3);
        expect([...ranks].sort()).toEqual(ranks);
        expect(new Set(found.map((m) => m.entry.emoji)).size).toBe(found.length);
      }),
    );
  });
});

describe('the full Unicode set (emojibase-data)', () => {
  it('loads lazily and finds common shortcodes from GitHub’s and CLDR’s sets', async () => {
    const index = await loadEmoji();
    expect(index.entries.length).toBeGreaterThan(1800);
    expect(searchEmoji(index, 'tada')[0]!.entry.emoji).toBe('🎉');
    expect(searchEmoji(index, 'party_popper')[0]!.entry.emoji).toBe('🎉');
    expect(emojiForShortcode(index, 'smile')).toBe('😄');
    expect(emojiForShortcode(index, '+1')?.replace('\uFE0F', '')).toBe('👍');
    expect(emojiForShortcode(index, 'heart')).toBe('❤️');
    // No skin tone variants, nor the swatches.
    expect(index.entries.some((e) => /\u{1F3FB}|\u{1F3FC}|\u{1F3FD}|\u{1F3FE}|\u{1F3FF}/u.test(e.emoji))).toBe(false);
    expect(await loadEmoji()).toBe(index);
  });
});

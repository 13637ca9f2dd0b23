import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildEmojiIndex, loadEmoji, type CompactEmoji } from './emoji';
import { EMOJI_GROUPS, gridMove, pickerSections } from './picker';

describe('gridMove', () => {
  // Two sections: 10 items (rows of 4: 0-3, 4-7, 8-9) and 3 items (10-12).
  const sizes = [10, 3];

  it('moves along and across rows inside a section', () => {
    expect(gridMove(sizes, 5, 'ArrowLeft', 4)).toBe(4);
    expect(gridMove(sizes, 5, 'ArrowRight', 4)).toBe(6);
    expect(gridMove(sizes, 5, 'ArrowDown', 4)).toBe(9);
    expect(gridMove(sizes, 5, 'ArrowUp', 4)).toBe(1);
    expect(gridMove(sizes, 0, 'ArrowLeft', 4)).toBe(0);
    expect(gridMove(sizes, 12, 'ArrowRight', 4)).toBe(12);
    expect(gridMove(sizes, 7, 'Home', 4)).toBe(0);
    expect(gridMove(sizes, 7, 'End', 4)).toBe(12);
  });

  it('goes to the short last row, and between sections keeping the column where it can', () => {
    expect(gridMove(sizes, 7, 'ArrowDown', 4)).toBe(9); // row 4-7, column 3 → last item of 8-9
    expect(gridMove(sizes, 9, 'ArrowDown', 4)).toBe(11); // column 1 → 10 + 1
    expect(gridMove(sizes, 12, 'ArrowUp', 4)).toBe(9); // column 2 → short row 8-9: its last
    expect(gridMove(sizes, 10, 'ArrowUp', 4)).toBe(8);
    expect(gridMove(sizes, 2, 'ArrowUp', 4)).toBe(2); // top row stays
    expect(gridMove(sizes, 11, 'ArrowDown', 4)).toBe(11); // bottom row stays
    expect(gridMove([2, 0, 3], 1, 'ArrowDown', 4)).toBe(3); // over an empty section
    expect(gridMove([2, 0, 3], 3, 'ArrowUp', 4)).toBe(1);
  });

  it('always lands on an item, and ↓ then ↑ comes back to the same column or stays put', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(20), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.constantFrom('ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End') as fc.Arbitrary<
          'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End'
        >,
        (sizes, n, key) => {
          const total = sizes.reduce((a, b) => a + b, 0);
          if (total === 0) return;
          const at = n % total;
          const to = gridMove(sizes, at, key, 8);
          expect(to).toBeGreaterThanOrEqual(0);
          expect(to).toBeLessThan(total);
          if (key === 'ArrowDown' && to !== at) expect(gridMove(sizes, to, 'ArrowUp', 8)).toBeLessThanOrEqual(at);
        },
      ),
    );
  });
});

describe('pickerSections', () => {
  const emoji: CompactEmoji[] = [
    { hexcode: '1F389', unicode: '🎉', label: 'party popper', group: 6, order: 2 },
    { hexcode: '1F600', unicode: '😀', label: 'grinning face', group: 0, order: 1 },
    { hexcode: '1F973', unicode: '🥳', label: 'partying face', group: 0, order: 3 },
  ];
  const index = buildEmojiIndex(emoji, [{ '1F389': 'tada', '1F600': 'grinning', '1F973': 'partying_face' }]);

  it('lists the categories in order, without empty ones', () => {
    expect(pickerSections(index, '').map((s) => [s.label, s.entries.map((e) => e.emoji)])).toEqual([
      ['Smileys & emotion', ['😀', '🥳']],
      ['Activities', ['🎉']],
    ]);
  });

  it('searches shortcodes first, then names', () => {
    expect(pickerSections(index, ' Party ')[0]!.entries.map((e) => e.emoji)).toEqual(['🥳', '🎉']);
    expect(pickerSections(index, 'partying face')[0]!.entries.map((e) => e.emoji)).toEqual(['🥳']);
    expect(pickerSections(index, 'nothing')[0]!.entries).toEqual([]);
  });

  it('covers every emoji of the real set in the categories', async () => {
    const real = await loadEmoji();
    const sections = pickerSections(real, '');
    expect(sections.map((s) => s.label)).toEqual(EMOJI_GROUPS.map((g) => g.label));
    const shown = sections.reduce((n, s) => n + s.entries.length, 0);
    expect(shown).toBe(real.entries.filter((e) => e.group >= 0).length);
  });
});

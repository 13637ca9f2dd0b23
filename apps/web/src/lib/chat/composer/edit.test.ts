import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffText } from './edit';

describe('diffText', () => {
  it('finds the one part that changed', () => {
    expect(diffText('say hello', 'say **hello')).toEqual({ start: 4, end: 4, insert: '**' });
    expect(diffText('say hello now', 'say **hello** now')).toEqual({ start: 4, end: 9, insert: '**hello**' });
    expect(diffText('hi :tada', 'hi 🎉 ')).toEqual({ start: 3, end: 8, insert: '🎉 ' });
    expect(diffText('same', 'same')).toEqual({ start: 4, end: 4, insert: '' });
    expect(diffText('abc', '')).toEqual({ start: 0, end: 3, insert: '' });
  });

  it('always turns the old text into the new one', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (before, after) => {
        const { start, end, insert } = diffText(before, after);
        expect(before.slice(0, start) + insert + before.slice(end)).toBe(after);
        expect(start).toBeLessThanOrEqual(end);
      }),
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { completedShortcode, findTrigger, replaceRange } from './triggers';

/** The trigger for text with the caret where "|" is. */
function at(marked: string) {
  const caret = marked.indexOf('|');
  return findTrigger(marked.replace('|', ''), caret);
}

describe('findTrigger', () => {
  it('finds a shortcode of two or more characters after a colon that starts a word', () => {
    expect(at('hi :ta|')).toEqual({ kind: 'emoji', query: 'ta', start: 3, end: 6 });
    expect(at(':+1|')).toEqual({ kind: 'emoji', query: '+1', start: 0, end: 3 });
    expect(at('(:tada|')).toMatchObject({ kind: 'emoji', query: 'tada' });
    // Too short, a time, a smiley, a URL, a word that goes on past the caret's space.
    expect(at('hi :t|')).toBeNull();
    expect(at('at 10:30|')).toBeNull();
    expect(at('ok :)|')).toBeNull();
    expect(at('see http://ex|')).toBeNull();
    expect(at(':tada: |')).toBeNull();
    expect(at(':ta da|')).toBeNull();
  });

  it('finds a mention right after "@", even with nothing typed yet', () => {
    expect(at('@|')).toEqual({ kind: 'mention', query: '', start: 0, end: 1 });
    expect(at('thanks @gr|')).toEqual({ kind: 'mention', query: 'gr', start: 7, end: 10 });
    expect(at('cc @ada.l|')).toMatchObject({ kind: 'mention', query: 'ada.l' });
    // An e-mail address is not a mention; a space ends it.
    expect(at('mail ada@ex|')).toBeNull();
    expect(at('@grace |')).toBeNull();
  });

  it('reads only up to the caret', () => {
    expect(at('@gr|ace')).toEqual({ kind: 'mention', query: 'gr', start: 0, end: 3 });
    expect(at(':ta|da')).toMatchObject({ kind: 'emoji', query: 'ta' });
  });

  it('finds a command only at the very start of the message, before any space', () => {
    expect(at('/|')).toEqual({ kind: 'command', query: '', start: 0, end: 1 });
    expect(at('/shr|')).toEqual({ kind: 'command', query: 'shr', start: 0, end: 4 });
    expect(at('/shrug |')).toBeNull();
    expect(at('hi /shr|')).toBeNull();
    expect(at('/usr/bin|')).toBeNull();
  });

  it('never throws, and a trigger always ends at the caret with its query just before it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.nat(), (text, n) => {
        const caret = n % (text.length + 1);
        const trigger = findTrigger(text, caret);
        if (!trigger) return;
        expect(trigger.end).toBe(caret);
        expect(text.slice(trigger.start + 1, trigger.end)).toBe(trigger.query);
        expect(':@/').toContain(text[trigger.start]);
      }),
    );
  });
});

describe('completedShortcode', () => {
  it('finds ":code:" just typed before the caret', () => {
    expect(completedShortcode('so :Smile:', 10)).toEqual({ code: 'smile', start: 3 });
    expect(completedShortcode(':tada:', 6)).toEqual({ code: 'tada', start: 0 });
    expect(completedShortcode('a:smile:', 8)).toBeNull();
    expect(completedShortcode(':smile: more', 12)).toBeNull();
    expect(completedShortcode('::', 2)).toBeNull();
  });
});

describe('replaceRange', () => {
  it('replaces and puts the caret after the insertion', () => {
    expect(replaceRange('hi :ta there', 3, 6, '🎉')).toEqual({ text: 'hi 🎉 there', caret: 5 });
  });
});

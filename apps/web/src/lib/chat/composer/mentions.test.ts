import { describe, expect, it } from 'vitest';
import { matchMentions, mentionText, mentionables, mentionsIn, type Mentionable } from './mentions';
import { pickSuggestion, suggestionsFor } from './suggestions';
import { findTrigger } from './triggers';

const GRACE: Mentionable = { id: 'u-grace', username: 'grace', name: 'Grace Hopper' };
const ADA: Mentionable = { id: 'u-ada', username: 'ada.l', name: 'Ada Lovelace' };
const ALAN: Mentionable = { id: 'u-alan', username: 'turing', name: 'Alan Turing' };
const MEMBERS = [GRACE, ADA, ALAN];

describe('matchMentions', () => {
  it('ranks username prefixes, then name words, then anything containing the query', () => {
    const names = (q: string, everyone = false) =>
      matchMentions(MEMBERS, q, { everyone }).map((o) => (o.kind === 'user' ? o.user.username : `@${o.word}`));
    expect(names('gr')).toEqual(['grace']);
    expect(names('AL')).toEqual(['turing']); // "Alan": a word of the name
    expect(names('a')).toEqual(['ada.l', 'turing', 'grace']);
    expect(names('ring')).toEqual(['turing']);
    expect(names('zzz')).toEqual([]);
  });

  it('offers @everyone, @here and @channel in channels only, after the people', () => {
    const words = (q: string, everyone: boolean) =>
      matchMentions(MEMBERS, q, { everyone }).map((o) => (o.kind === 'user' ? o.user.username : `@${o.word}`));
    expect(words('', true)).toEqual(['ada.l', 'turing', 'grace', '@everyone', '@here', '@channel']);
    expect(words('e', true)).toEqual(['ada.l', 'grace', '@everyone']);
    expect(words('h', true)).toEqual(['grace', '@here']);
    expect(words('', false)).toEqual(['ada.l', 'turing', 'grace']);
    expect(matchMentions(MEMBERS, '', { everyone: true, limit: 2 })).toHaveLength(2);
  });

  it('writes a mention as @username', () => {
    expect(mentionText({ kind: 'user', user: GRACE })).toBe('@grace');
    expect(mentionText({ kind: 'everyone', word: 'here', description: '' })).toBe('@here');
  });
});

describe('mentionables', () => {
  it('leaves oneself out and names people as the conversation does', () => {
    const people = [
      { id: 'u-ada', username: 'ada.l', display_name: 'Ada' },
      { id: 'u-grace', username: 'grace', display_name: 'Grace Hopper' },
    ];
    expect(mentionables(people, 'u-ada', (id) => (id === 'u-grace' ? 'Amazing Grace' : '?'))).toEqual([
      { id: 'u-grace', username: 'grace', name: 'Amazing Grace' },
    ]);
  });
});

describe('mentionsIn', () => {
  const opts = { everyone: true, limit: 50 };

  it('lists the people whose @username is in the text, once each', () => {
    expect(mentionsIn('@grace and @ada.l, look (@grace)', MEMBERS, opts)).toEqual({
      mentions: ['u-grace', 'u-ada'],
      mention_everyone: false,
    });
    expect(mentionsIn('Hi @Grace.', MEMBERS, opts).mentions).toEqual(['u-grace']);
  });

  it('does not count a longer name, an e-mail address or a bare name', () => {
    expect(mentionsIn('@graceful @ada.lovelace grace@example.org turing', MEMBERS, opts).mentions).toEqual([]);
  });

  it('notifies everyone for @everyone, @here or @channel, in channels only', () => {
    expect(mentionsIn('@here lunch?', MEMBERS, opts).mention_everyone).toBe(true);
    expect(mentionsIn('@channel', MEMBERS, opts).mention_everyone).toBe(true);
    expect(mentionsIn('@everyone', MEMBERS, { everyone: false, limit: 50 }).mention_everyone).toBe(false);
    expect(mentionsIn('@everyones', MEMBERS, opts).mention_everyone).toBe(false);
  });

  it('keeps to the limit the server accepts', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ id: `u${i}`, username: `user${i}x`, name: `U ${i}` }));
    const text = many.map((m) => `@${m.username}`).join(' ');
    expect(mentionsIn(text, many, opts).mentions).toHaveLength(50);
  });
});

describe('picking a suggestion', () => {
  const sources = { emoji: null, members: MEMBERS, everyone: true };

  it('replaces what was typed with the mention and a space', () => {
    const text = 'thanks @gr';
    const trigger = findTrigger(text, text.length)!;
    const [first] = suggestionsFor(trigger, sources);
    expect(first).toMatchObject({ title: 'Grace Hopper', detail: '@grace', lead: 'G' });
    expect(pickSuggestion(text, trigger, first!)).toEqual({ text: 'thanks @grace ', caret: 14 });
  });

  it('steps over a space that is there already', () => {
    const text = '@gr and more';
    const trigger = findTrigger(text, 3)!;
    const [first] = suggestionsFor(trigger, sources);
    expect(pickSuggestion(text, trigger, first!)).toEqual({ text: '@grace and more', caret: 7 });
  });

  it('lists commands with their descriptions, and no emoji before the data is there', () => {
    const rows = suggestionsFor(findTrigger('/', 1), sources);
    expect(rows.map((r) => r.insert)).toEqual(['/shrug', '/tableflip', '/unflip', '/lenny', '/me']);
    expect(rows[4]!.detail).toMatch(/action/);
    expect(suggestionsFor(findTrigger(':tada', 5), sources)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { matchWord, normalize, rankItems, scoreItem, type SwitcherItem } from './switcher-search';

function item(label: string, extra: Partial<SwitcherItem> = {}): SwitcherItem {
  return {
    key: `channel:${label}`,
    kind: 'channel',
    label,
    context: 'Analytical Society · General',
    terms: ['Analytical Society', 'General'],
    href: `/c/x/${label}`,
    unread: false,
    mentions: 0,
    ...extra,
  };
}

const labels = (rows: { label: string }[]) => rows.map((r) => r.label);

describe('normalize', () => {
  it('lowercases, drops accents and a leading # or @', () => {
    expect(normalize('  #Général ')).toBe('general');
    expect(normalize('@Ada')).toBe('ada');
  });
});

describe('matchWord', () => {
  it('prefers exact, then prefix, then word start, then substring, then letters in order', () => {
    const exact = matchWord('gen', 'gen')!;
    const prefix = matchWord('gen', 'general')!;
    const wordStart = matchWord('gen', 'the-general')!;
    const inside = matchWord('gen', 'oxygen')!;
    const letters = matchWord('gnrl', 'general')!;
    expect(exact).toBeGreaterThan(prefix);
    expect(prefix).toBeGreaterThan(wordStart);
    expect(wordStart).toBeGreaterThan(inside);
    expect(inside).toBeGreaterThan(letters);
    expect(letters).toBeGreaterThan(0);
  });

  it('finds a word start even when the same letters occur earlier inside a word', () => {
    expect(matchWord('eng', 'lengthy engines')).toBeGreaterThanOrEqual(600);
  });

  it('does not match letters that are missing or scattered far apart', () => {
    expect(matchWord('xyz', 'general')).toBeNull();
    expect(matchWord('ae', 'a long way to the end')).toBeNull();
  });
});

describe('scoreItem', () => {
  it('needs every word of the query, found in the name or the community/group', () => {
    const blueprints = item('blueprints', { terms: ['Analytical Society', 'Engines'] });
    expect(scoreItem(blueprints, 'blue eng')).not.toBeNull();
    expect(scoreItem(blueprints, 'blue cooking')).toBeNull();
  });

  it('weighs a match in the name over one in the community or group', () => {
    const named = item('engines');
    const inGroup = item('blueprints', { terms: ['Analytical Society', 'Engines'] });
    expect(scoreItem(named, 'engines')!).toBeGreaterThan(scoreItem(inGroup, 'engines')!);
  });
});

describe('rankItems', () => {
  const rows = [
    item('general'),
    item('random'),
    item('blueprints', { unread: true }),
    item('announcements', { unread: true, mentions: 2 }),
    item('Analytical Society', { kind: 'community', key: 'community:a', terms: [], unread: true, mentions: 2 }),
    item('Grace Hopper', { kind: 'dm', key: 'dm:g', terms: ['grace'], unread: true, mentions: 1 }),
  ];

  it('lists mentions, then unread, then the rest in sidebar order when the query is empty', () => {
    expect(labels(rankItems(rows, ''))).toEqual([
      'announcements',
      'Grace Hopper',
      'blueprints',
      'general',
      'random',
      'Analytical Society',
    ]);
  });

  it('keeps a community row behind its unread channels (it only sums them up)', () => {
    const ranked = labels(rankItems(rows, ''));
    expect(ranked.indexOf('Analytical Society')).toBeGreaterThan(ranked.indexOf('blueprints'));
  });

  it('ranks by match quality for a query, unread breaking ties', () => {
    const ranked = labels(rankItems([item('general-chat'), item('general'), item('engineering')], 'gen'));
    expect(ranked).toEqual(['general', 'general-chat', 'engineering']);
    const tie = rankItems([item('alpha'), item('alpha', { key: 'channel:other', unread: true })], 'alpha');
    expect(tie.map((r) => r.key)).toEqual(['channel:other', 'channel:alpha']);
  });

  it('finds DMs by a member’s user name', () => {
    expect(labels(rankItems(rows, 'grace'))).toEqual(['Grace Hopper']);
  });

  it('leaves out what does not match and stops at the limit', () => {
    expect(rankItems(rows, 'zzz')).toEqual([]);
    const many = Array.from({ length: 80 }, (_, i) => item(`channel-${i}`, { key: `c${i}` }));
    expect(rankItems(many, 'channel')).toHaveLength(50);
  });
});

import type { Channel, Community, Dm, Group } from '@chatalot/protocol';
import { describe, expect, it } from 'vitest';
import { type PlaceSource, step, stops, switcherItems } from './places';

const community = (id: string, name: string) => ({ id, name }) as Community;
const group = (id: string, name: string) => ({ id, name, joined: true }) as Group;
const channel = (id: string, name: string, extra: Partial<Channel> = {}) =>
  ({ id, name, kind: 'text', archived: false, ...extra }) as Channel;
const dm = (id: string, kind: Dm['kind'], members: [string, string][]) =>
  ({ id, kind, name: '', members: members.map(([username, display_name]) => ({ username, display_name })) }) as Dm;

function source(unread: string[] = [], mentions: Record<string, number> = {}): PlaceSource {
  const groups: Record<string, Group[]> = {
    s: [group('g1', 'General'), group('g2', 'Engines')],
    t: [group('g3', 'Tea Club')],
  };
  const channels: Record<string, Channel[]> = {
    g1: [channel('general', 'general'), channel('lounge', 'lounge', { kind: 'voice' })],
    g2: [channel('blueprints', 'blueprints'), channel('old', 'old', { archived: true })],
    g3: [channel('teas', 'teas')],
  };
  return {
    communities: [community('s', 'Analytical Society'), community('t', 'Tea Club')],
    dms: [
      dm('d1', 'dm', [['grace', 'Grace Hopper']]),
      dm('d2', 'group_dm', [
        ['ada', 'Ada'],
        ['alan', 'Alan'],
      ]),
    ],
    groups: (id) => groups[id] ?? [],
    channels: (id) => channels[id] ?? [],
    badge: (id) => ({ unread: unread.includes(id), mentions: mentions[id] ?? 0 }),
    dmTitle: (d) => d.members.map((m) => m.display_name).join(', '),
    communityHref: (id) => `/c/${id}`,
    channelHref: (c, id) => `/c/${c}/${id}`,
    dmHref: (id) => `/dm/${id}`,
  };
}

describe('switcherItems', () => {
  it('lists each community, then its channels with where they are, then the DMs by members', () => {
    const items = switcherItems(source(['blueprints', 'd1'], { blueprints: 1 }));
    expect(items.map((i) => i.key)).toEqual([
      'community:s',
      'channel:general',
      'channel:lounge',
      'channel:blueprints',
      'channel:old',
      'community:t',
      'channel:teas',
      'dm:d1',
      'dm:d2',
    ]);
    const blueprints = items.find((i) => i.key === 'channel:blueprints')!;
    expect(blueprints).toMatchObject({
      label: 'blueprints',
      context: 'Analytical Society · Engines',
      href: '/c/s/blueprints',
      unread: true,
      mentions: 1,
    });
    // A group named like its community is not repeated.
    expect(items.find((i) => i.key === 'channel:teas')!.context).toBe('Tea Club');
    expect(items.find((i) => i.key === 'community:s')).toMatchObject({ unread: true, mentions: 1, href: '/c/s' });
    expect(items.find((i) => i.key === 'dm:d1')).toMatchObject({ label: 'Grace Hopper', unread: true, mentions: 1 });
    expect(items.find((i) => i.key === 'dm:d2')).toMatchObject({
      context: 'Group message',
      terms: ['Ada', 'ada', 'Alan', 'alan'],
    });
  });
});

describe('step', () => {
  const list = stops(source(['teas', 'd2']));

  it('skips voice and archived channels', () => {
    expect(list.map((s) => s.channelId)).toEqual(['general', 'blueprints', 'teas', 'd1', 'd2']);
  });

  it('moves within the current community, wrapping around', () => {
    const here = { channelId: 'general', communityId: 's' };
    expect(step(list, here, 1)?.channelId).toBe('blueprints');
    expect(step(list, here, -1)?.channelId).toBe('blueprints');
    expect(step(list, { channelId: 'teas', communityId: 't' }, 1)).toBeNull();
  });

  it('moves within the DMs when on a DM, and starts at an end when on no channel', () => {
    expect(step(list, { channelId: 'd1', communityId: null }, 1)?.channelId).toBe('d2');
    expect(step(list, { channelId: null, communityId: 's' }, 1)?.channelId).toBe('general');
    expect(step(list, { channelId: null, communityId: 's' }, -1)?.channelId).toBe('blueprints');
  });

  it('finds the nearest unread place anywhere, in either direction', () => {
    const here = { channelId: 'general', communityId: 's' };
    expect(step(list, here, 1, true)?.channelId).toBe('teas');
    expect(step(list, here, -1, true)?.channelId).toBe('d2');
    expect(step(list, { channelId: 'teas', communityId: 't' }, 1, true)?.channelId).toBe('d2');
    expect(step(stops(source()), here, 1, true)).toBeNull();
  });
});

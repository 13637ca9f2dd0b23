import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../spaces/events.js';
import { createTestApp, type TestApp } from '../../test-support/test-app.js';
import { DIALECTS } from '../../test-support/test-db.js';
import type { TestUser } from '../../test-support/users.js';
import {
  caller,
  channelsOf,
  createGroup,
  freshUser,
  outcome,
  recordEvents,
  seedCommunity,
  type TestCommunity,
} from '../test-helpers.js';

interface ChannelView {
  id: string;
  group_id: string | null;
  community_id: string | null;
  kind: string;
  name: string;
  topic: string;
  read_only: boolean;
  slow_mode_secs: number;
  archived: boolean;
  archived_at: number | null;
  message_ttl_secs: number | null;
  voice_background: string | null;
  position: number;
  created_by: string | null;
}

interface MemberView {
  user_id: string;
  username: string;
  role: 'admin' | 'member';
}

/** PRODUCT.md §3 and §12, spelled out so a changed constant shows up here. */
const DAY = 86_400;
const THIRTY_DAYS = 30 * DAY;

describe.each(DIALECTS)('group channels on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;
  let c: TestCommunity;
  let other: TestCommunity;
  let outsider: TestUser;
  let instanceAdmin: TestUser;
  const db = () => t.db.database.db;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    call = caller(t);
    c = await seedCommunity(t, 'ch');
    other = await seedCommunity(t, 'oth');
    outsider = await freshUser(t, 'outs');
    instanceAdmin = await freshUser(t, 'iadm', { instanceRole: 'admin' });
  });
  afterAll(() => t.close());

  const createChannel = async (as: TestUser, groupId: string, body: Record<string, unknown>) => {
    const res = await call(as, 'POST', `/api/groups/${groupId}/channels`, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as ChannelView;
  };
  const patch = (as: TestUser | null, channelId: string, body: unknown) =>
    call(as, 'PATCH', `/api/channels/${channelId}`, body);
  const read = async (as: TestUser, channelId: string) => {
    const res = await call(as, 'GET', `/api/channels/${channelId}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as ChannelView;
  };
  const membersOf = async (as: TestUser, channelId: string) => {
    const res = await call(as, 'GET', `/api/channels/${channelId}/members`);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { members: MemberView[] }).members;
  };
  const addToGroup = (groupId: string, user: TestUser, role: 'admin' | 'member') =>
    db()
      .insertInto('group_members')
      .values({ group_id: groupId, user_id: user.id, role, joined_at: Date.now() })
      .execute();
  const assetStatus = async (url: string) => (await t.app.inject({ method: 'GET', url })).statusCode;

  it('creates text, voice and gallery channels after #general, with their defaults, and announces each', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Kinds', visibility: 'public' });
    const events = await recordEvents(t, topics.group(g.id));
    const text = await createChannel(c.owner, g.id, { name: '  news  ', kind: 'text', topic: 'Headlines' });
    expect(text).toMatchObject({
      group_id: g.id,
      community_id: c.id,
      kind: 'text',
      name: 'news',
      topic: 'Headlines',
      read_only: false,
      slow_mode_secs: 0,
      archived: false,
      archived_at: null,
      message_ttl_secs: null,
      voice_background: null,
      position: 1,
      created_by: c.owner.id,
    });
    const voice = await createChannel(c.owner, g.id, { name: 'Lounge', kind: 'voice' });
    expect(voice).toMatchObject({ kind: 'voice', topic: '', position: 2 });
    const gallery = await createChannel(c.owner, g.id, { name: 'Photos', kind: 'gallery' });
    expect(gallery).toMatchObject({ kind: 'gallery', position: 3 });
    expect((await channelsOf(t, c.alice, g.id)).map((ch) => [ch.name, ch.kind])).toEqual([
      ['general', 'text'],
      ['news', 'text'],
      ['Lounge', 'voice'],
      ['Photos', 'gallery'],
    ]);
    expect(await read(c.alice, voice.id)).toEqual(voice);
    await events.stop();
    expect(events.seen.map((s) => s.event)).toEqual(
      [text, voice, gallery].map((ch) =>
        expect.objectContaining({
          type: 'channel.created',
          channel_id: ch.id,
          group_id: g.id,
          community_id: c.id,
          kind: ch.kind,
          name: ch.name,
        }),
      ),
    );
  });

  it('refuses bad names, topics and kinds, and accepts the exact limits', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Input', visibility: 'public' });
    const url = `/api/groups/${g.id}/channels`;
    for (const body of [
      { name: '', kind: 'text' },
      { name: '   ', kind: 'text' },
      { name: 'x'.repeat(65), kind: 'text' },
      { name: 'x', kind: 'text', topic: 't'.repeat(513) },
      { name: 'x', kind: 'dm' },
      { name: 'x', kind: 'group_dm' },
      { name: 'x', kind: 'stage' },
      { name: 'x' },
      { kind: 'text' },
    ]) {
      expect(outcome(await call(c.owner, 'POST', url, body)), JSON.stringify(body)).toEqual([400, 'validation_error']);
    }
    const edge = await createChannel(c.owner, g.id, { name: 'n'.repeat(64), kind: 'text', topic: 't'.repeat(512) });
    expect([edge.name.length, edge.topic.length]).toEqual([64, 512]);
    expect(await channelsOf(t, c.owner, g.id)).toHaveLength(2);
    expect(
      outcome(await call(c.owner, 'POST', `/api/groups/${randomUUID()}/channels`, { name: 'x', kind: 'text' })),
    ).toEqual([404, 'not_found']);
  });

  it('lets group admins and community moderators create, change and delete channels; plain members cannot', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Crew', visibility: 'private' });
    await addToGroup(g.id, c.bob, 'admin');
    await addToGroup(g.id, c.alice, 'member');
    const url = `/api/groups/${g.id}/channels`;
    const body = { name: 'plans', kind: 'text' };
    // A plain group member is refused; a community member outside the private group and an
    // outsider do not even see it.
    expect(outcome(await call(c.alice, 'POST', url, body))).toEqual([403, 'forbidden']);
    expect(outcome(await call(c.carol, 'POST', url, body))).toEqual([404, 'not_found']);
    expect(outcome(await call(outsider, 'POST', url, body))).toEqual([404, 'not_found']);
    expect(outcome(await call(null, 'POST', url, body))[0]).toBe(401);
    expect(await channelsOf(t, c.owner, g.id)).toHaveLength(1);

    const byGroupAdmin = await createChannel(c.bob, g.id, body);
    // The moderator is not in the group at all: community moderators keep admin rights.
    const byModerator = await createChannel(c.moderator, g.id, { name: 'mods', kind: 'voice' });
    expect(byModerator.created_by).toBe(c.moderator.id);
    for (const ch of [byGroupAdmin, byModerator]) {
      expect(outcome(await patch(c.alice, ch.id, { topic: 'mine' }))).toEqual([403, 'forbidden']);
      expect(outcome(await patch(c.carol, ch.id, { topic: 'mine' }))).toEqual([404, 'not_found']);
      expect(outcome(await patch(outsider, ch.id, { topic: 'mine' }))).toEqual([404, 'not_found']);
      expect(outcome(await patch(null, ch.id, { topic: 'mine' }))[0]).toBe(401);
      expect(outcome(await call(c.alice, 'DELETE', `/api/channels/${ch.id}`))).toEqual([403, 'forbidden']);
      expect(outcome(await call(c.carol, 'DELETE', `/api/channels/${ch.id}`))).toEqual([404, 'not_found']);
      expect(outcome(await call(outsider, 'DELETE', `/api/channels/${ch.id}`))).toEqual([404, 'not_found']);
      // Members read it; others do not see it.
      expect((await read(c.alice, ch.id)).topic).toBe('');
      expect(outcome(await call(c.carol, 'GET', `/api/channels/${ch.id}`))).toEqual([404, 'not_found']);
    }
    expect((await patch(c.bob, byModerator.id, { topic: 'by bob' })).json()).toMatchObject({ topic: 'by bob' });
    expect((await patch(c.moderator, byGroupAdmin.id, { topic: 'by mod' })).json()).toMatchObject({ topic: 'by mod' });
    expect((await patch(c.admin, byGroupAdmin.id, { name: 'plans-2' })).json()).toMatchObject({ name: 'plans-2' });
    expect((await patch(instanceAdmin, byGroupAdmin.id, { read_only: true })).json()).toMatchObject({
      read_only: true,
    });
    expect((await call(c.bob, 'DELETE', `/api/channels/${byModerator.id}`)).statusCode).toBe(204);

    // Roles are read on each request: a demoted group admin loses the rights at once.
    const demoted = await call(c.owner, 'PATCH', `/api/groups/${g.id}/members/${c.bob.id}`, { role: 'member' });
    expect(demoted.statusCode, demoted.body).toBe(200);
    expect(outcome(await call(c.bob, 'POST', url, body))).toEqual([403, 'forbidden']);
    expect(outcome(await patch(c.bob, byGroupAdmin.id, { topic: 'x' }))).toEqual([403, 'forbidden']);
    expect(outcome(await call(c.bob, 'DELETE', `/api/channels/${byGroupAdmin.id}`))).toEqual([403, 'forbidden']);
    expect((await call(c.moderator, 'DELETE', `/api/channels/${byGroupAdmin.id}`)).statusCode).toBe(204);

    // In a public group every community member is a plain member: still no.
    const pub = await createGroup(t, c.owner, c.id, { name: 'Square', visibility: 'public' });
    const [general] = await channelsOf(t, c.carol, pub.id);
    expect(outcome(await call(c.carol, 'POST', `/api/groups/${pub.id}/channels`, body))).toEqual([403, 'forbidden']);
    expect(outcome(await patch(c.carol, general!.id, { name: 'mine' }))).toEqual([403, 'forbidden']);
    expect(outcome(await call(c.carol, 'DELETE', `/api/channels/${general!.id}`))).toEqual([403, 'forbidden']);
    expect((await read(c.owner, general!.id)).name).toBe('general');
  });

  it('never shows or changes a channel of another community', async () => {
    const g = await createGroup(t, other.owner, other.id, { name: 'Theirs', visibility: 'public' });
    const [general] = await channelsOf(t, other.owner, g.id);
    const id = general!.id;
    for (const user of [c.owner, c.admin, c.moderator, c.alice]) {
      expect(outcome(await call(user, 'GET', `/api/channels/${id}`))).toEqual([404, 'not_found']);
      expect(outcome(await call(user, 'GET', `/api/channels/${id}/members`))).toEqual([404, 'not_found']);
      expect(outcome(await patch(user, id, { name: 'mine' }))).toEqual([404, 'not_found']);
      expect(outcome(await call(user, 'DELETE', `/api/channels/${id}`))).toEqual([404, 'not_found']);
      expect(outcome(await call(user, 'POST', `/api/groups/${g.id}/channels`, { name: 'x', kind: 'text' }))).toEqual([
        404,
        'not_found',
      ]);
    }
    expect((await read(other.owner, id)).name).toBe('general');
    for (const path of ['', '/members']) {
      expect(outcome(await call(c.owner, 'GET', `/api/channels/${randomUUID()}${path}`))).toEqual([404, 'not_found']);
    }
  });

  it('changes name, topic, read-only, slow mode and disappearing messages within their bounds', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Settings', visibility: 'public' });
    const ch = await createChannel(c.owner, g.id, { name: 'tuning', kind: 'text' });
    const events = await recordEvents(t, topics.group(g.id), topics.channel(ch.id));
    const changes: { body: Record<string, unknown>; fields: string[] }[] = [];
    const accepted = async (body: Record<string, unknown>, expected: Partial<ChannelView>) => {
      const res = await patch(c.moderator, ch.id, body);
      expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(200);
      expect(res.json()).toMatchObject(expected);
      expect(await read(c.alice, ch.id)).toMatchObject(expected);
      changes.push({ body, fields: Object.keys(body) });
    };
    const refused = async (body: Record<string, unknown>) =>
      expect(outcome(await patch(c.moderator, ch.id, body)), JSON.stringify(body)).toEqual([400, 'validation_error']);

    await accepted({ name: '  renamed  ', topic: 'About things' }, { name: 'renamed', topic: 'About things' });
    await accepted({ name: 'n'.repeat(64), topic: 't'.repeat(512) }, { name: 'n'.repeat(64) });
    await accepted({ name: 'renamed', topic: '' }, { name: 'renamed', topic: '' });
    for (const body of [{ name: '' }, { name: '  ' }, { name: 'x'.repeat(65) }, { topic: 't'.repeat(513) }]) {
      await refused(body);
    }

    await accepted({ read_only: true }, { read_only: true });
    await accepted({ read_only: false }, { read_only: false });
    await refused({ read_only: 'yes' });

    // Slow mode: any whole number of seconds from 0 to a day.
    await accepted({ slow_mode_secs: DAY }, { slow_mode_secs: DAY });
    await accepted({ slow_mode_secs: 0 }, { slow_mode_secs: 0 });
    await accepted({ slow_mode_secs: 600 }, { slow_mode_secs: 600 });
    for (const slow of [DAY + 1, -1, 2.5, '60', null]) await refused({ slow_mode_secs: slow });

    // Disappearing messages: up to 30 days, cleared with null.
    await accepted({ message_ttl_secs: THIRTY_DAYS }, { message_ttl_secs: THIRTY_DAYS });
    await accepted({ message_ttl_secs: 1 }, { message_ttl_secs: 1 });
    for (const ttl of [THIRTY_DAYS + 1, 0, -1, 1.5, '3600']) await refused({ message_ttl_secs: ttl });
    await accepted({ message_ttl_secs: null }, { message_ttl_secs: null });

    // A body with one bad field changes nothing at all; an empty one is refused.
    await refused({ name: 'sneaky', slow_mode_secs: DAY + 1 });
    await refused({ name: 'sneaky', message_ttl_secs: THIRTY_DAYS + 1 });
    expect(outcome(await patch(c.moderator, ch.id, {}))).toEqual([400, 'bad_request']);
    expect(await read(c.owner, ch.id)).toMatchObject({
      name: 'renamed',
      topic: '',
      kind: 'text',
      read_only: false,
      slow_mode_secs: 600,
      message_ttl_secs: null,
      archived: false,
    });

    // One channel.updated per accepted change, on the group's and the channel's topics.
    await events.stop();
    for (const topic of [topics.group(g.id), topics.channel(ch.id)]) {
      const seen = events.seen.filter((s) => s.topic === topic).map((s) => s.event);
      expect(seen).toEqual(
        changes.map(({ fields }) =>
          expect.objectContaining({
            type: 'channel.updated',
            channel_id: ch.id,
            group_id: g.id,
            community_id: c.id,
            fields,
          }),
        ),
      );
    }
    const last = events.seen.at(-1)!.event;
    expect(last.channel).toMatchObject({ id: ch.id, message_ttl_secs: null, slow_mode_secs: 600 });
  });

  it('sets a background on voice channels only: a preset or a stored image, and clears it', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Voices', visibility: 'public' });
    const voice = await createChannel(c.owner, g.id, { name: 'Talk', kind: 'voice' });
    const text = await createChannel(c.owner, g.id, { name: 'chat', kind: 'text' });
    const gallery = await createChannel(c.owner, g.id, { name: 'pics', kind: 'gallery' });
    for (const ch of [text, gallery]) {
      expect(outcome(await patch(c.owner, ch.id, { voice_background: 'aurora' }))).toEqual([400, 'bad_request']);
      expect((await read(c.owner, ch.id)).voice_background).toBeNull();
    }
    expect((await patch(c.owner, voice.id, { voice_background: 'aurora' })).json()).toMatchObject({
      voice_background: 'aurora',
    });
    expect((await patch(c.moderator, voice.id, { voice_background: 'night-sky' })).json()).toMatchObject({
      voice_background: 'night-sky',
    });
    for (const bad of ['Aurora', 'night sky', '../etc/passwd', 'a'.repeat(33), `${'f'.repeat(64)}.jpg`, '', 42]) {
      expect(outcome(await patch(c.owner, voice.id, { voice_background: bad })), String(bad)).toEqual([
        400,
        'validation_error',
      ]);
    }
    // An image id must name a stored image.
    expect(outcome(await patch(c.owner, voice.id, { voice_background: `${'a'.repeat(64)}.webp` }))).toEqual([
      400,
      'bad_request',
    ]);
    expect((await read(c.owner, voice.id)).voice_background).toBe('night-sky');
    expect(outcome(await patch(c.alice, voice.id, { voice_background: null }))).toEqual([403, 'forbidden']);
    expect((await patch(c.owner, voice.id, { voice_background: null })).json()).toMatchObject({
      voice_background: null,
    });

    // A stored image (here: the group icon's bytes) is kept while the channel shows it, even
    // when the icon goes, and released once nothing refers to it any more.
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#204060' } })
      .png()
      .toBuffer();
    const uploadIcon = async () => {
      const res = await t.app.inject({
        method: 'PUT',
        url: `/api/groups/${g.id}/icon`,
        headers: { ...c.owner.auth, 'content-type': 'image/png' },
        payload: png,
      });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as { icon_url: string }).icon_url;
    };
    const iconUrl = await uploadIcon();
    const assetId = iconUrl.split('/').at(-1)!;
    expect((await patch(c.owner, voice.id, { voice_background: assetId })).json()).toMatchObject({
      voice_background: assetId,
    });
    expect((await call(c.owner, 'DELETE', `/api/groups/${g.id}/icon`)).statusCode).toBe(200);
    expect(await assetStatus(iconUrl)).toBe(200);
    expect((await patch(c.owner, voice.id, { voice_background: null })).json()).toMatchObject({
      voice_background: null,
    });
    expect(await assetStatus(iconUrl)).toBe(404);

    // The same goes for deleting the channel that showed it.
    expect(await uploadIcon()).toBe(iconUrl);
    await patch(c.owner, voice.id, { voice_background: assetId });
    expect((await call(c.owner, 'DELETE', `/api/groups/${g.id}/icon`)).statusCode).toBe(200);
    expect(await assetStatus(iconUrl)).toBe(200);
    expect((await call(c.owner, 'DELETE', `/api/channels/${voice.id}`)).statusCode).toBe(204);
    expect(await assetStatus(iconUrl)).toBe(404);
  });

  it('archives a channel for good: kept and listed, but never changed or un-archived again', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'History', visibility: 'public' });
    const ch = await createChannel(c.owner, g.id, { name: 'old-news', kind: 'voice', topic: 'Then' });
    expect(outcome(await patch(c.owner, ch.id, { archived: false }))).toEqual([400, 'validation_error']);
    expect(outcome(await patch(c.alice, ch.id, { archived: true }))).toEqual([403, 'forbidden']);
    const events = await recordEvents(t, topics.group(g.id), topics.channel(ch.id));
    const res = await patch(c.moderator, ch.id, { archived: true });
    expect(res.statusCode, res.body).toBe(200);
    const archived = res.json() as ChannelView;
    expect(archived).toMatchObject({ archived: true, name: 'old-news', topic: 'Then' });
    expect(archived.archived_at).toEqual(expect.any(Number));

    for (const body of [
      { name: 'again' },
      { topic: 'Now' },
      { read_only: false },
      { slow_mode_secs: 10 },
      { message_ttl_secs: 3600 },
      { message_ttl_secs: null },
      { voice_background: 'aurora' },
      { archived: true },
    ]) {
      expect(outcome(await patch(c.owner, ch.id, body)), JSON.stringify(body)).toEqual([409, 'conflict']);
    }
    expect(outcome(await patch(c.owner, ch.id, { archived: false }))).toEqual([400, 'validation_error']);
    // Kept: still readable and listed, unchanged.
    expect(await read(c.alice, ch.id)).toEqual(archived);
    expect((await channelsOf(t, c.alice, g.id)).map((x) => x.id)).toContain(ch.id);
    await events.stop();
    expect(events.types(topics.channel(ch.id))).toEqual(['channel.updated']);
    expect(events.types(topics.group(g.id))).toEqual(['channel.updated']);
    expect(events.seen[0]!.event).toMatchObject({ fields: ['archived'], channel: { archived: true } });
  });

  it('lets exactly one of several simultaneous archive requests win', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Race', visibility: 'public' });
    const ch = await createChannel(c.owner, g.id, { name: 'contested', kind: 'text' });
    const events = await recordEvents(t, topics.channel(ch.id));
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => patch(i % 2 ? c.owner : c.moderator, ch.id, { archived: true })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    const winner = results.find((r) => r.statusCode === 200)!.json() as ChannelView;
    expect((await read(c.owner, ch.id)).archived_at).toBe(winner.archived_at);
    await events.stop();
    expect(events.types(topics.channel(ch.id))).toEqual(['channel.updated']);
  });

  it('refuses the 101st channel of a group with limit_reached, also under simultaneous creation', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Crowded', visibility: 'public' });
    const now = Date.now();
    // #general plus 96: three short of the limit.
    await db()
      .insertInto('channels')
      .values(
        Array.from({ length: 96 }, (_, i) => ({
          id: randomUUID(),
          group_id: g.id,
          kind: 'text' as const,
          name: `c${i}`,
          position: i + 1,
          dm_key: null,
          archived_at: null,
          message_ttl_secs: null,
          voice_background: null,
          created_by: c.owner.id,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
    const url = `/api/groups/${g.id}/channels`;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call(i % 2 ? c.owner : c.moderator, 'POST', url, { name: `race${i}`, kind: 'text' }),
      ),
    );
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(3);
    expect(results.filter((r) => r.statusCode !== 201).map(outcome)).toEqual([
      [409, 'limit_reached'],
      [409, 'limit_reached'],
      [409, 'limit_reached'],
    ]);
    const listed = await channelsOf(t, c.owner, g.id);
    expect(listed).toHaveLength(100);
    expect(new Set(listed.map((ch) => (ch as unknown as ChannelView).position)).size).toBe(100);
    for (const kind of ['text', 'voice', 'gallery']) {
      expect(outcome(await call(c.owner, 'POST', url, { name: 'one too many', kind }))).toEqual([409, 'limit_reached']);
    }
    // Archived channels are kept, so they still count; deleting one makes room for exactly one.
    expect((await patch(c.owner, listed[3]!.id, { archived: true })).statusCode).toBe(200);
    expect(outcome(await call(c.owner, 'POST', url, { name: 'one too many', kind: 'text' }))).toEqual([
      409,
      'limit_reached',
    ]);
    expect((await call(c.owner, 'DELETE', `/api/channels/${listed[5]!.id}`)).statusCode).toBe(204);
    await createChannel(c.moderator, g.id, { name: 'room again', kind: 'voice' });
    expect(outcome(await call(c.owner, 'POST', url, { name: 'no room', kind: 'text' }))).toEqual([
      409,
      'limit_reached',
    ]);
    expect(await channelsOf(t, c.owner, g.id)).toHaveLength(100);
  });

  it('deletes a channel for good, audited and announced', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Cleanup', visibility: 'public' });
    const ch = await createChannel(c.owner, g.id, { name: 'temp', kind: 'gallery' });
    const events = await recordEvents(t, topics.group(g.id), topics.channel(ch.id));
    expect(outcome(await call(c.alice, 'DELETE', `/api/channels/${ch.id}`))).toEqual([403, 'forbidden']);
    expect((await call(c.moderator, 'DELETE', `/api/channels/${ch.id}`)).statusCode).toBe(204);
    expect(outcome(await call(c.owner, 'GET', `/api/channels/${ch.id}`))).toEqual([404, 'not_found']);
    expect(outcome(await call(c.owner, 'GET', `/api/channels/${ch.id}/members`))).toEqual([404, 'not_found']);
    expect(outcome(await patch(c.owner, ch.id, { name: 'back' }))).toEqual([404, 'not_found']);
    expect(outcome(await call(c.owner, 'DELETE', `/api/channels/${ch.id}`))).toEqual([404, 'not_found']);
    expect((await channelsOf(t, c.alice, g.id)).map((x) => x.name)).toEqual(['general']);
    // The group's last channel may go too; the group stays.
    const [general] = await channelsOf(t, c.owner, g.id);
    expect((await call(c.owner, 'DELETE', `/api/channels/${general!.id}`)).statusCode).toBe(204);
    expect(await channelsOf(t, c.alice, g.id)).toEqual([]);
    expect((await call(c.alice, 'GET', `/api/groups/${g.id}`)).statusCode).toBe(200);

    const audit = await db()
      .selectFrom('audit_log')
      .select(['actor_id', 'target_id'])
      .where('action', '=', 'channel_deleted')
      .where('target_id', '=', ch.id)
      .execute();
    expect(audit).toEqual([{ actor_id: c.moderator.id, target_id: ch.id }]);
    await events.stop();
    expect(events.types(topics.channel(ch.id))).toEqual(['channel.deleted']);
    expect(events.types(topics.group(g.id))).toEqual(['channel.deleted', 'channel.deleted']);
    expect(events.seen[0]!.event).toMatchObject({
      type: 'channel.deleted',
      channel_id: ch.id,
      group_id: g.id,
      community_id: c.id,
    });
  });

  it('lists a channel’s members: exactly its group’s members, with their group roles', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Roster', visibility: 'private' });
    await addToGroup(g.id, c.bob, 'admin');
    await addToGroup(g.id, c.alice, 'member');
    const ch = await createChannel(c.bob, g.id, { name: 'stage', kind: 'voice' });
    const groupMembers = async () =>
      ((await call(c.owner, 'GET', `/api/groups/${g.id}/members`)).json() as { members: MemberView[] }).members;
    const pairs = (list: MemberView[]) => list.map((m) => [m.user_id, m.role]).sort();

    const listed = await membersOf(c.alice, ch.id);
    expect(listed).toEqual(await groupMembers());
    expect(pairs(listed)).toEqual(
      [
        [c.owner.id, 'admin'],
        [c.bob.id, 'admin'],
        [c.alice.id, 'member'],
      ].sort(),
    );
    expect(listed[0]).toEqual({
      user_id: expect.any(String),
      username: expect.any(String),
      display_name: expect.any(String),
      avatar_url: null,
      role: expect.stringMatching(/^(admin|member)$/),
      joined_at: expect.any(Number),
    });
    // Community moderators see the list without being on it; others do not see it.
    expect(pairs(await membersOf(c.moderator, ch.id))).toEqual(pairs(listed));
    expect(outcome(await call(c.carol, 'GET', `/api/channels/${ch.id}/members`))).toEqual([404, 'not_found']);
    expect(outcome(await call(outsider, 'GET', `/api/channels/${ch.id}/members`))).toEqual([404, 'not_found']);
    expect(outcome(await call(null, 'GET', `/api/channels/${ch.id}/members`))[0]).toBe(401);

    // It follows the group: joining by invite adds, leaving removes.
    const invite = await call(c.owner, 'POST', `/api/groups/${g.id}/invites`, {});
    const joined = await call(c.carol, 'POST', `/api/group-invites/${(invite.json() as { code: string }).code}/join`);
    expect(joined.statusCode, joined.body).toBe(200);
    expect((await call(c.alice, 'POST', `/api/groups/${g.id}/leave`)).statusCode).toBe(204);
    const after = await membersOf(c.carol, ch.id);
    expect(after).toEqual(await groupMembers());
    expect(pairs(after)).toEqual(
      [
        [c.owner.id, 'admin'],
        [c.bob.id, 'admin'],
        [c.carol.id, 'member'],
      ].sort(),
    );
    expect(outcome(await call(c.alice, 'GET', `/api/channels/${ch.id}/members`))).toEqual([404, 'not_found']);

    // A public group's channel holds every community member.
    const pub = await createGroup(t, c.owner, c.id, { name: 'Everyone', visibility: 'public' });
    const [general] = await channelsOf(t, c.alice, pub.id);
    expect((await membersOf(c.alice, general!.id)).map((m) => m.user_id).sort()).toEqual(
      [c.owner, c.admin, c.moderator, c.alice, c.bob, c.carol].map((u) => u.id).sort(),
    );
  });

  it('answers 404 for a DM’s id on every channel route, even to its members, and changes nothing', async () => {
    const dm = randomUUID();
    const now = Date.now();
    await db()
      .insertInto('channels')
      .values({
        id: dm,
        group_id: null,
        kind: 'dm',
        dm_key: [c.alice.id, c.bob.id].sort().join(':'),
        message_ttl_secs: null,
        archived_at: null,
        voice_background: null,
        created_by: c.alice.id,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await db()
      .insertInto('channel_members')
      .values([c.alice, c.bob].map((u) => ({ channel_id: dm, user_id: u.id, joined_at: now })))
      .execute();
    for (const user of [c.alice, c.bob, c.carol, c.owner, instanceAdmin, outsider]) {
      const who = user.username;
      expect(outcome(await call(user, 'GET', `/api/channels/${dm}`)), who).toEqual([404, 'not_found']);
      expect(outcome(await call(user, 'GET', `/api/channels/${dm}/members`)), who).toEqual([404, 'not_found']);
      for (const body of [{ topic: 'ours' }, { archived: true }, { message_ttl_secs: 60 }]) {
        expect(outcome(await patch(user, dm, body)), who).toEqual([404, 'not_found']);
      }
      expect(outcome(await call(user, 'DELETE', `/api/channels/${dm}`)), who).toEqual([404, 'not_found']);
      expect(outcome(await call(user, 'POST', `/api/groups/${dm}/channels`, { name: 'x', kind: 'text' })), who).toEqual(
        [404, 'not_found'],
      );
    }
    const row = await db().selectFrom('channels').selectAll().where('id', '=', dm).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ topic: '', archived_at: null, message_ttl_secs: null });
  });
});

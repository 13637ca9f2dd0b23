import { ChannelReadState, ReadStateList } from '@chatalot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcome, recordEvents } from '../groups/test-helpers.js';
import { topics } from '../spaces/events.js';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';
import { messaging } from './test-helpers.js';

describe.each(DIALECTS)('read states on %s', (dialect) => {
  let t: TestApp;
  let world: SpacesWorld;
  let m: ReturnType<typeof messaging>;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    world = await buildSpacesWorld(t, 'read');
    m = messaging(t);
  });
  afterAll(() => t.close());

  const states = async (user: TestUser) => {
    const res = await m.call(user, 'GET', '/api/read-states');
    expect(res.statusCode, res.body).toBe(200);
    return new Map(ReadStateList.parse(res.json()).channels.map((c) => [c.channel_id, c]));
  };
  const markRead = async (user: TestUser, channelId: string, seq: number) => {
    const res = await m.call(user, 'PUT', `/api/channels/${channelId}/read`, { seq });
    expect(res.statusCode, res.body).toBe(200);
    return ChannelReadState.parse(res.json());
  };

  it('counts unread messages and mentions, leaving out one’s own, deleted and disappeared ones', async () => {
    const { users } = world;
    const channel = await m.channel(world);
    await m.send(users.member, channel); // 1
    await m.send(users.member, channel, { mentions: [users.groupMember.id] }); // 2
    await m.send(users.member, channel, { mention_everyone: true }); // 3
    await m.send(users.member, channel, { mentions: [users.moderator.id, `${users.groupMember.id}x`] }); // 4
    const deleted = await m.send(users.member, channel, { mentions: [users.groupMember.id] }); // 5
    expect((await m.call(users.member, 'DELETE', `/api/messages/${deleted.id}`)).statusCode).toBe(204);
    await m.send(users.groupMember, channel, { mention_everyone: true }); // 6: their own
    const expired = await m.send(users.member, channel, { mentions: [users.groupMember.id] }); // 7
    await t.db.database.db
      .updateTable('messages')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', expired.id)
      .execute();

    const mine = (await states(users.groupMember)).get(channel);
    expect(mine).toEqual({ channel_id: channel, last_seq: 7, read_seq: 0, unread: 4, mentions: 2 });
    const theirs = (await states(users.moderator)).get(channel);
    expect(theirs).toEqual({ channel_id: channel, last_seq: 7, read_seq: 0, unread: 5, mentions: 3 });
    const sender = (await states(users.member)).get(channel);
    expect(sender).toEqual({ channel_id: channel, last_seq: 7, read_seq: 0, unread: 1, mentions: 1 });

    const events = await recordEvents(t, topics.user(users.groupMember.id), topics.channel(channel));
    expect(await markRead(users.groupMember, channel, 2)).toEqual({
      channel_id: channel,
      last_seq: 7,
      read_seq: 2,
      unread: 2,
      mentions: 1,
    });
    // Never back; never past the latest seq.
    expect((await markRead(users.groupMember, channel, 1)).read_seq).toBe(2);
    expect(await markRead(users.groupMember, channel, 1000)).toMatchObject({ read_seq: 7, unread: 0, mentions: 0 });
    expect((await states(users.groupMember)).get(channel)).toMatchObject({ read_seq: 7, unread: 0 });
    expect((await states(users.moderator)).get(channel)).toMatchObject({ read_seq: 0, unread: 5 });
    await events.stop();
    expect(events.seen.filter((s) => s.topic === topics.user(users.groupMember.id)).map((s) => s.event.seq)).toEqual([
      2, 2, 7,
    ]);
  });

  it('lists every channel the user receives and nothing else', async () => {
    const { users } = world;
    const ids = async (user: TestUser) => [...(await states(user)).keys()];
    const member = await ids(users.member);
    expect(member).toEqual(expect.arrayContaining([world.a.publicChannel, world.dm]));
    expect(member).not.toContain(world.a.privateChannel);
    const groupMember = await states(users.groupMember);
    expect([...groupMember.keys()]).toEqual(
      expect.arrayContaining([world.a.publicChannel, world.a.privateChannel, world.dm]),
    );
    expect(groupMember.get(world.dm)).toEqual({
      channel_id: world.dm,
      last_seq: 1,
      read_seq: 0,
      unread: 1,
      mentions: 0,
    });
    expect(groupMember.get(world.a.privateChannel)).toMatchObject({ last_seq: 1, unread: 0 });
    // Moderators receive every channel of their community, the private group's too.
    expect(await ids(users.moderator)).toEqual(expect.arrayContaining([world.a.privateChannel]));
    for (const user of [users.outsider, users.banned, users.instanceAdmin]) expect(await ids(user)).toEqual([]);
    for (const user of [users.member, users.groupMember, users.moderator, users.admin, users.owner]) {
      const seen = await ids(user);
      expect(seen).not.toContain(world.b.publicChannel);
      expect(seen).not.toContain(world.b.privateChannel);
    }
    expect(outcome(await m.call(null, 'GET', '/api/read-states'))[0]).toBe(401);
  });

  it('refuses to mark what the user cannot read, and bad cursors', async () => {
    const url = (id: string) => `/api/channels/${id}/read`;
    expect(outcome(await m.call(world.users.member, 'PUT', url(world.a.privateChannel), { seq: 1 }))).toEqual([
      404,
      'not_found',
    ]);
    expect(outcome(await m.call(world.users.instanceAdmin, 'PUT', url(world.dm), { seq: 1 }))).toEqual([
      404,
      'not_found',
    ]);
    for (const body of [{ seq: -1 }, { seq: 1.5 }, { seq: '1' }, {}]) {
      expect(outcome(await m.call(world.users.member, 'PUT', url(world.a.publicChannel), body))).toEqual([
        400,
        'validation_error',
      ]);
    }
  });
});

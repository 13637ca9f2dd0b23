import { MESSAGE_LIMITS, type ReadPosition, ReadPositionList } from '@chatalot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcome, recordEvents } from '../groups/test-helpers.js';
import { topics } from '../spaces/events.js';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { createUser, type TestUser } from '../test-support/users.js';
import { messaging } from './test-helpers.js';

describe.each(DIALECTS)('read positions on %s', (dialect) => {
  let t: TestApp;
  let world: SpacesWorld;
  let m: ReturnType<typeof messaging>;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    world = await buildSpacesWorld(t, 'readpos');
    m = messaging(t);
  });
  afterAll(() => t.close());

  const url = (channelId: string) => `/api/channels/${channelId}/read-positions`;
  /** The positions `user` is told, by user id. */
  const positions = async (user: TestUser, channelId: string) => {
    const res = await m.call(user, 'GET', url(channelId));
    expect(res.statusCode, res.body).toBe(200);
    return new Map(ReadPositionList.parse(res.json()).positions.map((p: ReadPosition) => [p.user_id, p.read_seq]));
  };
  const markRead = async (user: TestUser, channelId: string, seq: number) => {
    expect((await m.call(user, 'PUT', `/api/channels/${channelId}/read`, { seq })).statusCode).toBe(200);
  };
  const shareReceipts = async (user: TestUser, share: boolean) => {
    const res = await m.call(user, 'PUT', '/api/account/preferences', { read_receipts: share ? null : false });
    expect(res.statusCode, res.body).toBe(200);
  };

  it('tells members how far the others have read, leaving out those who do not share read receipts', async () => {
    const { users } = world;
    const channel = await m.channel(world);
    for (let i = 0; i < 3; i++) await m.send(users.owner, channel);
    await markRead(users.member, channel, 2);
    await markRead(users.groupMember, channel, 3);
    await markRead(users.admin, channel, 1);
    await shareReceipts(users.admin, false);

    expect(await positions(users.groupMember, channel)).toEqual(
      new Map([
        [users.member.id, 2],
        [users.groupMember.id, 3],
      ]),
    );
    // Live, too, the channel does not hear where the admin read while they do not share.
    const events = await recordEvents(t, topics.channel(channel));
    await markRead(users.admin, channel, 3);
    await events.stop();
    expect(events.seen.filter((s) => s.event.type === 'read')).toEqual([]);
    // Sharing again shows the cursor, which moved on meanwhile.
    await shareReceipts(users.admin, true);
    expect((await positions(users.member, channel)).get(users.admin.id)).toBe(3);
    // Someone who never read the channel has no position.
    expect((await positions(users.member, channel)).has(users.moderator.id)).toBe(false);
  });

  it('lists only the channel’s members: a moderator reading a private group’s channel is not one', async () => {
    const local = await buildSpacesWorld(t, 'readposm');
    const { users } = local;
    await markRead(users.groupMember, local.a.privateChannel, 1);
    await markRead(users.moderator, local.a.privateChannel, 1);
    expect(await positions(users.owner, local.a.privateChannel)).toEqual(new Map([[users.groupMember.id, 1]]));
  });

  it('answers DM members only, and refuses everyone else as if the channel did not exist', async () => {
    const { users } = world;
    await markRead(users.groupMember, world.dm, 1);
    expect(await positions(users.member, world.dm)).toEqual(new Map([[users.groupMember.id, 1]]));
    for (const user of [users.moderator, users.owner, users.instanceAdmin, users.outsider]) {
      expect(outcome(await m.call(user, 'GET', url(world.dm)))).toEqual([404, 'not_found']);
    }
    expect(outcome(await m.call(users.member, 'GET', url(world.a.privateChannel)))).toEqual([404, 'not_found']);
    expect(outcome(await m.call(users.outsider, 'GET', url(world.a.publicChannel)))).toEqual([404, 'not_found']);
    expect(outcome(await m.call(users.banned, 'GET', url(world.a.publicChannel)))).toEqual([404, 'not_found']);
    expect(outcome(await m.call(users.member, 'GET', url(world.b.publicChannel)))).toEqual([404, 'not_found']);
    expect(outcome(await m.call(users.member, 'GET', url('no-such-channel')))).toEqual([404, 'not_found']);
    expect(outcome(await m.call(null, 'GET', url(world.dm)))[0]).toBe(401);
  });

  it(`answers an empty list in channels of more than ${MESSAGE_LIMITS.receiptsMaxMembers} members`, async () => {
    const local = await buildSpacesWorld(t, 'readposbig');
    const { users } = local;
    const channel = local.a.privateChannel;
    await markRead(users.groupMember, channel, 1);
    const join = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const user = await createUser(t, `big_${i}_${Math.random().toString(36).slice(2, 10)}`);
        await t.db.database.db
          .insertInto('group_members')
          .values({ group_id: local.a.privateGroup, user_id: user.id, role: 'member', joined_at: Date.now() })
          .execute();
      }
    };
    // The private group holds its owner and groupMember: up to the limit, receipts stay.
    await join(MESSAGE_LIMITS.receiptsMaxMembers - 2);
    expect(await positions(users.owner, channel)).toEqual(new Map([[users.groupMember.id, 1]]));
    await join(1);
    expect(await positions(users.owner, channel)).toEqual(new Map());
  });
});

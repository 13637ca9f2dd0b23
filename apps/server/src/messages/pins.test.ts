import { MESSAGE_LIMITS, Message, PinnedMessageList } from '@chatalot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcome, recordEvents } from '../groups/test-helpers.js';
import { topics } from '../spaces/events.js';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';
import { messaging } from './test-helpers.js';

describe.each(DIALECTS)('pins on %s', (dialect) => {
  let t: TestApp;
  let world: SpacesWorld;
  let m: ReturnType<typeof messaging>;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    world = await buildSpacesWorld(t, 'pins');
    m = messaging(t);
  });
  afterAll(() => t.close());

  const pin = (user: TestUser, messageId: string, method: 'PUT' | 'DELETE' = 'PUT') =>
    m.call(user, method, `/api/messages/${messageId}/pin`);
  const pins = async (user: TestUser, channelId: string) => {
    const res = await m.call(user, 'GET', `/api/channels/${channelId}/pins`);
    expect(res.statusCode, res.body).toBe(200);
    return PinnedMessageList.parse(res.json()).messages;
  };

  it('lets group admins and community moderators pin in group channels, and not plain members', async () => {
    const local = await buildSpacesWorld(t, 'pinrole');
    const { users } = local;
    const id = local.a.privateMessage;
    const channel = local.a.privateChannel;
    const events = await recordEvents(t, topics.channel(channel));

    expect(outcome(await pin(users.groupMember, id))).toEqual([403, 'forbidden']);
    expect(outcome(await pin(users.member, id))).toEqual([404, 'not_found']);
    expect(outcome(await pin(users.outsider, id))).toEqual([404, 'not_found']);
    expect((await pin(users.moderator, id)).statusCode).toBe(204);
    // Pinning again changes nothing and says nothing.
    expect((await pin(users.admin, id)).statusCode).toBe(204);
    const [pinned] = await pins(users.groupMember, channel);
    // The list says who pinned it and when, for those who did not see it happen.
    expect(pinned).toMatchObject({ id, pinned: true, pinned_by: users.moderator.id, pinned_at: expect.any(Number) });
    const one = Message.parse((await m.call(users.groupMember, 'GET', `/api/messages/${id}`)).json());
    expect(one.pinned).toBe(true);

    expect(outcome(await pin(users.groupMember, id, 'DELETE'))).toEqual([403, 'forbidden']);
    // A group admin who is a plain member of the community moderates their group's channels.
    await t.db.database.db
      .updateTable('group_members')
      .set({ role: 'admin' })
      .where('group_id', '=', local.a.privateGroup)
      .where('user_id', '=', users.groupMember.id)
      .execute();
    expect((await pin(users.groupMember, id, 'DELETE')).statusCode).toBe(204);
    expect((await pin(users.groupMember, id, 'DELETE')).statusCode).toBe(204);
    expect(await pins(users.groupMember, channel)).toEqual([]);
    expect((await pin(users.groupMember, id)).statusCode).toBe(204);
    expect((await pins(users.moderator, channel))[0]!.pinned_by).toBe(users.groupMember.id);
    // Instance admins act in every community.
    expect((await pin(users.instanceAdmin, local.b.privateMessage)).statusCode).toBe(204);
    expect(outcome(await pin(users.groupMember, local.b.privateMessage))).toEqual([404, 'not_found']);

    await events.stop();
    expect(
      events.seen.map((s) => [s.event.type, s.event.message_id, s.event.pinned_by ?? s.event.unpinned_by]),
    ).toEqual([
      ['message.pinned', id, users.moderator.id],
      ['message.unpinned', id, users.groupMember.id],
      ['message.pinned', id, users.groupMember.id],
    ]);
    expect(events.seen[0]!.event).toMatchObject({ channel_id: channel, seq: 1, pinned_at: expect.any(Number) });
  });

  it('lets either member of a DM pin there, and nobody else', async () => {
    const id = world.dmMessage;
    for (const user of [world.users.instanceAdmin, world.users.moderator, world.users.owner]) {
      expect(outcome(await pin(user, id))).toEqual([404, 'not_found']);
      expect(outcome(await m.call(user, 'GET', `/api/channels/${world.dm}/pins`))).toEqual([404, 'not_found']);
    }
    expect((await pin(world.users.groupMember, id)).statusCode).toBe(204);
    expect((await pins(world.users.member, world.dm)).map((msg) => [msg.id, msg.pinned_by])).toEqual([
      [id, world.users.groupMember.id],
    ]);
    expect((await pin(world.users.member, id, 'DELETE')).statusCode).toBe(204);
    expect(await pins(world.users.groupMember, world.dm)).toEqual([]);
  });

  it('keeps at most 50 pins per channel, most recently pinned first', async () => {
    const channel = await m.channel(world);
    const ids: string[] = [];
    for (let i = 0; i <= MESSAGE_LIMITS.pinsPerChannel; i++) ids.push((await m.send(world.users.member, channel)).id);
    for (const id of ids.slice(0, 50)) expect((await pin(world.users.moderator, id)).statusCode).toBe(204);
    expect(outcome(await pin(world.users.moderator, ids[50]!))).toEqual([409, 'limit_reached']);
    const listed = await pins(world.users.member, channel);
    expect(listed).toHaveLength(50);
    expect(listed.map((msg) => msg.id)).toEqual(ids.slice(0, 50).reverse());
    // Pinning one already pinned is not one more.
    expect((await pin(world.users.moderator, ids[0]!)).statusCode).toBe(204);
    expect((await pin(world.users.moderator, ids[3]!, 'DELETE')).statusCode).toBe(204);
    expect((await pin(world.users.moderator, ids[50]!)).statusCode).toBe(204);
    expect(outcome(await pin(world.users.moderator, ids[3]!))).toEqual([409, 'limit_reached']);
    expect((await pins(world.users.member, channel))[0]!.id).toBe(ids[50]);
  });

  it('does not pin deleted messages, and deleting a pinned message unpins it', async () => {
    const channel = await m.channel(world);
    const kept = await m.send(world.users.member, channel);
    const gone = await m.send(world.users.member, channel);
    expect((await pin(world.users.moderator, kept.id)).statusCode).toBe(204);
    expect((await m.call(world.users.member, 'DELETE', `/api/messages/${gone.id}`)).statusCode).toBe(204);
    expect(outcome(await pin(world.users.moderator, gone.id))).toEqual([404, 'not_found']);
    expect((await m.call(world.users.member, 'DELETE', `/api/messages/${kept.id}`)).statusCode).toBe(204);
    expect(await pins(world.users.member, channel)).toEqual([]);
    expect(outcome(await pin(world.users.moderator, 'no-such-message'))).toEqual([404, 'not_found']);
  });

  it('changes no pins in an archived channel', async () => {
    const channel = await m.channel(world);
    const sent = await m.send(world.users.member, channel);
    expect((await pin(world.users.moderator, sent.id)).statusCode).toBe(204);
    await m.configure(world, channel, { archived: true });
    expect(outcome(await pin(world.users.moderator, sent.id, 'DELETE'))).toEqual([409, 'channel_archived']);
    expect((await pins(world.users.member, channel)).map((msg) => msg.id)).toEqual([sent.id]);
  });
});

import { Message, MessagePage, MessageVersions } from '@chatalot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcome } from '../groups/test-helpers.js';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { messaging, range, text } from './test-helpers.js';

describe.each(DIALECTS)('message history on %s', (dialect) => {
  let t: TestApp;
  let world: SpacesWorld;
  let m: ReturnType<typeof messaging>;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    world = await buildSpacesWorld(t, 'hist');
    m = messaging(t);
  });
  afterAll(() => t.close());

  it('pages by seq: the newest page, after, before, both, limits up to 100, has_more', async () => {
    const channel = await m.channel(world);
    const senders = [world.users.member, world.users.groupMember];
    for (let i = 1; i <= 120; i++) await m.send(senders[i % 2]!, channel, { ciphertext: text(`m${i}`) });
    const page = async (query: string) => {
      const body = await m.history(world.users.moderator, channel, query);
      return [body.messages.map((msg) => msg.seq), body.has_more];
    };
    expect(await page('')).toEqual([range(71, 120), true]);
    expect(await page('?limit=100')).toEqual([range(21, 120), true]);
    expect(await page('?before=21&limit=100')).toEqual([range(1, 20), false]);
    expect(await page('?before=21&limit=20')).toEqual([range(1, 20), false]);
    expect(await page('?before=21&limit=19')).toEqual([range(2, 20), true]);
    expect(await page('?before=50&limit=10')).toEqual([range(40, 49), true]);
    expect(await page('?before=1')).toEqual([[], false]);
    expect(await page('?before=1000&limit=3')).toEqual([range(118, 120), true]);
    expect(await page('?after=0&limit=100')).toEqual([range(1, 100), true]);
    expect(await page('?after=100&limit=100')).toEqual([range(101, 120), false]);
    expect(await page('?after=118&limit=1')).toEqual([[119], true]);
    expect(await page('?after=119&limit=1')).toEqual([[120], false]);
    expect(await page('?after=120')).toEqual([[], false]);
    expect(await page('?after=10&before=20')).toEqual([range(11, 19), false]);
    expect(await page('?after=10&before=20&limit=5')).toEqual([range(11, 15), true]);

    const body = await m.history(world.users.member, channel, '?after=4&limit=1');
    expect(body.messages[0]).toMatchObject({
      seq: 5,
      sender_id: world.users.groupMember.id,
      ciphertext: text('m5'),
      encryption: { scheme: 'sender_key' },
      deleted_at: null,
      pinned: false,
    });

    for (const query of ['?limit=101', '?limit=0', '?before=0', '?after=-1', '?limit=x', '?after=1.5']) {
      expect(outcome(await m.call(world.users.member, 'GET', `/api/channels/${channel}/messages${query}`))).toEqual([
        400,
        'validation_error',
      ]);
    }
  });

  it('answers only those who may read the channel', async () => {
    const url = (id: string) => `/api/channels/${id}/messages`;
    expect((await m.call(world.users.groupMember, 'GET', url(world.a.privateChannel))).statusCode).toBe(200);
    expect((await m.call(world.users.instanceAdmin, 'GET', url(world.a.privateChannel))).statusCode).toBe(200);
    expect(outcome(await m.call(world.users.member, 'GET', url(world.a.privateChannel)))).toEqual([404, 'not_found']);
    expect(outcome(await m.call(world.users.banned, 'GET', url(world.a.publicChannel)))).toEqual([404, 'not_found']);
    expect(outcome(await m.call(world.users.instanceAdmin, 'GET', url(world.dm)))).toEqual([404, 'not_found']);
    expect(outcome(await m.call(null, 'GET', url(world.a.publicChannel)))[0]).toBe(401);
    const dm = await m.history(world.users.groupMember, world.dm);
    expect(dm.messages.map((msg) => [msg.id, msg.encryption.scheme])).toEqual([[world.dmMessage, 'pairwise']]);
  });

  it('keeps deleted messages in place without their body, and leaves disappeared ones out', async () => {
    const channel = await m.channel(world);
    const acks = [];
    for (let i = 1; i <= 5; i++) acks.push(await m.send(world.users.member, channel, { ciphertext: text(`d${i}`) }));
    const [, second, , fourth, fifth] = acks as [unknown, { id: string }, unknown, { id: string }, { id: string }];
    expect(
      (await m.call(world.users.groupMember, 'PUT', `/api/messages/${second.id}/reactions/${encodeURIComponent('🎉')}`))
        .statusCode,
    ).toBe(204);
    expect((await m.call(world.users.member, 'DELETE', `/api/messages/${second.id}`)).statusCode).toBe(204);
    const db = t.db.database.db;
    const now = Date.now();
    await db
      .updateTable('messages')
      .set({ expires_at: now - 1 })
      .where('id', '=', fourth.id)
      .execute();
    await db
      .updateTable('messages')
      .set({ expires_at: now + 60_000 })
      .where('id', '=', fifth.id)
      .execute();

    const { messages, has_more } = await m.history(world.users.groupMember, channel);
    expect(has_more).toBe(false);
    expect(messages.map((msg) => msg.seq)).toEqual([1, 2, 3, 5]);
    expect(messages[1]).toMatchObject({
      id: second.id,
      deleted_at: expect.any(Number),
      ciphertext: '',
      reactions: [],
      mentions: [],
    });
    expect(messages[3]).toMatchObject({ id: fifth.id, expires_at: now + 60_000, ciphertext: text('d5') });

    const one = await m.call(world.users.groupMember, 'GET', `/api/messages/${second.id}`);
    expect(Message.parse(one.json())).toMatchObject({ ciphertext: '', deleted_at: expect.any(Number) });
    for (const path of ['', '/thread', '/versions']) {
      expect(outcome(await m.call(world.users.groupMember, 'GET', `/api/messages/${fourth.id}${path}`))).toEqual([
        404,
        'not_found',
      ]);
    }
  });

  it('reads one message with its reactions, only for those who may read its channel', async () => {
    const id = world.a.privateMessage;
    expect(
      (await m.call(world.users.owner, 'PUT', `/api/messages/${id}/reactions/${encodeURIComponent('👍')}`)).statusCode,
    ).toBe(204);
    const res = await m.call(world.users.groupMember, 'GET', `/api/messages/${id}`);
    expect(res.statusCode).toBe(200);
    expect(Message.parse(res.json())).toMatchObject({
      id,
      channel_id: world.a.privateChannel,
      seq: 1,
      sender_id: world.users.groupMember.id,
      reactions: [{ emoji: '👍', user_ids: [world.users.owner.id] }],
    });
    for (const user of [world.users.member, world.users.outsider, world.users.banned]) {
      expect(outcome(await m.call(user, 'GET', `/api/messages/${id}`))).toEqual([404, 'not_found']);
    }
    expect(outcome(await m.call(world.users.instanceAdmin, 'GET', `/api/messages/${world.dmMessage}`))).toEqual([
      404,
      'not_found',
    ]);
    expect(outcome(await m.call(world.users.member, 'GET', '/api/messages/no-such-message'))).toEqual([
      404,
      'not_found',
    ]);
  });

  it('lists a thread: replies and replies to replies, ascending, paged', async () => {
    const channel = await m.channel(world);
    const root = await m.send(world.users.member, channel);
    const r1 = await m.send(world.users.groupMember, channel, { reply_to: root.id });
    await m.send(world.users.member, channel);
    const r2 = await m.send(world.users.moderator, channel, { reply_to: r1.id });
    const r3 = await m.send(world.users.member, channel, { reply_to: root.id });
    const thread = async (id: string, query = '') => {
      const res = await m.call(world.users.admin, 'GET', `/api/messages/${id}/thread${query}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = MessagePage.parse(res.json());
      return [page.messages.map((msg) => msg.id), page.has_more];
    };
    expect(await thread(root.id)).toEqual([[r1.id, r2.id, r3.id], false]);
    expect(await thread(root.id, '?limit=2')).toEqual([[r1.id, r2.id], true]);
    expect(await thread(root.id, `?after=${r2.seq}&limit=2`)).toEqual([[r3.id], false]);
    // A reply is not a thread root: its replies joined the root's thread.
    expect(await thread(r1.id)).toEqual([[], false]);
    const reply = Message.parse((await m.call(world.users.admin, 'GET', `/api/messages/${r2.id}`)).json());
    expect(reply).toMatchObject({ reply_to: r1.id, thread_root: root.id });
    expect(outcome(await m.call(world.users.member, 'GET', `/api/messages/${root.id}/thread?limit=101`))).toEqual([
      400,
      'validation_error',
    ]);
    expect(outcome(await m.call(world.users.outsider, 'GET', `/api/messages/${root.id}/thread`))).toEqual([
      404,
      'not_found',
    ]);
  });

  it('keeps the edit history: the text alone until edited, then every version, oldest first', async () => {
    const channel = await m.channel(world);
    const sent = await m.send(world.users.member, channel, { ciphertext: text('v0') });
    const versions = async () => {
      const res = await m.call(world.users.groupMember, 'GET', `/api/messages/${sent.id}/versions`);
      expect(res.statusCode, res.body).toBe(200);
      return MessageVersions.parse(res.json()).versions;
    };
    expect(await versions()).toEqual([{ ciphertext: text('v0'), created_at: sent.created_at }]);
    for (const v of ['v1', 'v2']) {
      const res = await m.call(world.users.member, 'PATCH', `/api/messages/${sent.id}`, { ciphertext: text(v) });
      expect(res.statusCode, res.body).toBe(200);
    }
    const all = await versions();
    expect(all.map((v) => v.ciphertext)).toEqual([text('v0'), text('v1'), text('v2')]);
    expect(all[0]!.created_at).toBe(sent.created_at);
    const current = Message.parse((await m.call(world.users.groupMember, 'GET', `/api/messages/${sent.id}`)).json());
    expect(current).toMatchObject({ ciphertext: text('v2'), edited_at: all[2]!.created_at });
    expect(outcome(await m.call(world.users.outsider, 'GET', `/api/messages/${sent.id}/versions`))).toEqual([
      404,
      'not_found',
    ]);
    // Deleting drops the body and every version.
    expect((await m.call(world.users.member, 'DELETE', `/api/messages/${sent.id}`)).statusCode).toBe(204);
    expect(await versions()).toEqual([]);
    const left = await t.db.database.db
      .selectFrom('message_versions')
      .select('version')
      .where('message_id', '=', sent.id)
      .execute();
    expect(left).toEqual([]);
  });
});

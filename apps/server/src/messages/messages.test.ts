import { MESSAGE_LIMITS, Message, MessageAck } from '@chatalot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcome, recordEvents } from '../groups/test-helpers.js';
import { topics } from '../spaces/events.js';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { messaging, nonce, text } from './test-helpers.js';

const MINUTE = 60 * 1000;

describe.each(DIALECTS)('sending and changing messages over REST on %s', (dialect) => {
  let t: TestApp;
  let world: SpacesWorld;
  let m: ReturnType<typeof messaging>;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    world = await buildSpacesWorld(t, 'msg');
    m = messaging(t);
  });
  afterAll(() => t.close());

  const post = (user: keyof SpacesWorld['users'], channelId: string, body: Record<string, unknown> = {}) =>
    m.call(world.users[user], 'POST', `/api/channels/${channelId}/messages`, {
      nonce: nonce(),
      ciphertext: text('hi'),
      encryption: { scheme: 'sender_key' },
      ...body,
    });
  const lastSeq = async (channelId: string) =>
    Number(
      (
        await t.db.database.db
          .selectFrom('channels')
          .select('last_seq')
          .where('id', '=', channelId)
          .executeTakeFirstOrThrow()
      ).last_seq,
    );

  it('makes one message per nonce: 201 first, then 200 with the same ack', async () => {
    const channel = await m.channel(world);
    const events = await recordEvents(t, topics.channel(channel));
    const n = nonce('same');
    const statuses: number[] = [];
    const acks: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await post('member', channel, { nonce: n, ciphertext: text(`try ${i}`) });
      statuses.push(res.statusCode);
      acks.push(MessageAck.parse(res.json()));
    }
    expect(statuses).toEqual([201, 200, 200, 200, 200]);
    expect(new Set(acks.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(acks[0]).toMatchObject({ nonce: n, channel_id: channel, seq: 1 });
    const rows = await t.db.database.db.selectFrom('messages').select('ciphertext').where('nonce', '=', n).execute();
    expect(rows).toEqual([{ ciphertext: text('try 0') }]);

    // Concurrent retries too: one message, one ack.
    const n2 = nonce('race');
    const raced = await Promise.all(Array.from({ length: 5 }, () => post('member', channel, { nonce: n2 })));
    expect(raced.every((r) => r.statusCode === 200 || r.statusCode === 201)).toBe(true);
    expect(raced.some((r) => r.statusCode === 201)).toBe(true);
    expect(new Set(raced.map((r) => (r.json() as { id: string }).id)).size).toBe(1);
    expect(await t.db.database.db.selectFrom('messages').select('id').where('nonce', '=', n2).execute()).toHaveLength(
      1,
    );
    expect(await lastSeq(channel)).toBe(2);

    // The same nonce elsewhere is a client bug, not a retry.
    expect(outcome(await post('member', world.a.publicChannel, { nonce: n }))).toEqual([409, 'conflict']);
    // Nonces are per sender: someone else's is theirs to use.
    expect((await post('groupMember', channel, { nonce: n })).statusCode).toBe(201);

    await events.stop();
    expect(events.types(topics.channel(channel))).toEqual(['message.created', 'message.created', 'message.created']);
  });

  it('validates what is sent and who sends it', async () => {
    const channel = world.a.publicChannel;
    for (const body of [
      { nonce: 'short' },
      { ciphertext: 'not base64!' },
      { ciphertext: '' },
      // 64 KiB is 87 384 base64 characters.
      { ciphertext: 'A'.repeat(87_388) },
      { encryption: { scheme: 'plaintext' } },
      { encryption: undefined },
      { mentions: Array.from({ length: 51 }, (_, i) => `u${i}`) },
    ]) {
      expect(outcome(await post('member', channel, body)), JSON.stringify(body).slice(0, 80)).toEqual([
        400,
        'validation_error',
      ]);
    }
    expect(outcome(await post('member', world.a.privateChannel))).toEqual([404, 'not_found']);
    expect(outcome(await post('member', world.b.publicChannel))).toEqual([404, 'not_found']);
    expect(outcome(await post('instanceAdmin', world.dm))).toEqual([404, 'not_found']);
    expect(outcome(await post('banned', channel))).toEqual([404, 'not_found']);
    expect((await post('instanceAdmin', world.b.privateChannel)).statusCode).toBe(201);
  });

  it('edits one’s own messages within 15 minutes, never others’', async () => {
    const channel = await m.channel(world);
    const sent = await m.send(world.users.member, channel, { ciphertext: text('first') });
    const url = `/api/messages/${sent.id}`;
    const events = await recordEvents(t, topics.channel(channel));
    expect(outcome(await m.call(world.users.moderator, 'PATCH', url, { ciphertext: text('x') }))).toEqual([
      403,
      'forbidden',
    ]);
    expect(outcome(await m.call(world.users.outsider, 'PATCH', url, { ciphertext: text('x') }))).toEqual([
      404,
      'not_found',
    ]);
    expect(outcome(await m.call(world.users.member, 'PATCH', url, { ciphertext: '***' }))).toEqual([
      400,
      'validation_error',
    ]);
    const edited = await m.call(world.users.member, 'PATCH', url, { ciphertext: text('second') });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(Message.parse(edited.json())).toMatchObject({
      id: sent.id,
      ciphertext: text('second'),
      edited_at: expect.any(Number),
    });
    await events.stop();
    expect(events.types(topics.channel(channel))).toEqual(['message.updated']);

    // 14 minutes old: still editable; 16 minutes old: closed.
    const db = t.db.database.db;
    await db
      .updateTable('messages')
      .set({ created_at: Date.now() - 14 * MINUTE })
      .where('id', '=', sent.id)
      .execute();
    expect((await m.call(world.users.member, 'PATCH', url, { ciphertext: text('third') })).statusCode).toBe(200);
    await db
      .updateTable('messages')
      .set({ created_at: Date.now() - 16 * MINUTE })
      .where('id', '=', sent.id)
      .execute();
    expect(outcome(await m.call(world.users.member, 'PATCH', url, { ciphertext: text('late') }))).toEqual([
      403,
      'edit_window_closed',
    ]);
    const row = await db
      .selectFrom('messages')
      .select('ciphertext')
      .where('id', '=', sent.id)
      .executeTakeFirstOrThrow();
    expect(row.ciphertext).toBe(text('third'));

    const gone = await m.send(world.users.member, channel);
    expect((await m.call(world.users.member, 'DELETE', `/api/messages/${gone.id}`)).statusCode).toBe(204);
    expect(
      outcome(await m.call(world.users.member, 'PATCH', `/api/messages/${gone.id}`, { ciphertext: text('back') })),
    ).toEqual([404, 'not_found']);
  });

  it('deletes one’s own messages, and moderators delete anyone’s', async () => {
    const channel = await m.channel(world);
    const mine = await m.send(world.users.member, channel);
    const theirs = await m.send(world.users.groupMember, channel);
    const events = await recordEvents(t, topics.channel(channel));
    expect(outcome(await m.call(world.users.member, 'DELETE', `/api/messages/${theirs.id}`))).toEqual([
      403,
      'forbidden',
    ]);
    expect(outcome(await m.call(world.users.outsider, 'DELETE', `/api/messages/${theirs.id}`))).toEqual([
      404,
      'not_found',
    ]);
    expect((await m.call(world.users.member, 'DELETE', `/api/messages/${mine.id}`)).statusCode).toBe(204);
    expect((await m.call(world.users.moderator, 'DELETE', `/api/messages/${theirs.id}`)).statusCode).toBe(204);
    // Again: nothing left to do, nothing published.
    expect((await m.call(world.users.moderator, 'DELETE', `/api/messages/${theirs.id}`)).statusCode).toBe(204);
    await events.stop();
    expect(events.seen.map((s) => [s.event.type, s.event.message_id, s.event.deleted_by])).toEqual([
      ['message.deleted', mine.id, world.users.member.id],
      ['message.deleted', theirs.id, world.users.moderator.id],
    ]);
    const page = await m.history(world.users.member, channel);
    expect(page.messages.map((msg) => [msg.seq, msg.ciphertext, msg.deleted_at !== null])).toEqual([
      [1, '', true],
      [2, '', true],
    ]);
  });

  it('takes at most 20 different reactions per message; the same one again is fine', async () => {
    const channel = await m.channel(world);
    const sent = await m.send(world.users.member, channel);
    const react = (user: keyof SpacesWorld['users'], emoji: string, method: 'PUT' | 'DELETE' = 'PUT') =>
      m.call(world.users[user], method, `/api/messages/${sent.id}/reactions/${encodeURIComponent(emoji)}`);
    const emoji = Array.from({ length: MESSAGE_LIMITS.distinctReactions + 1 }, (_, i) =>
      String.fromCodePoint(0x1f600 + i),
    );
    for (const e of emoji.slice(0, 20)) expect((await react('member', e)).statusCode).toBe(204);
    expect(outcome(await react('member', emoji[20]!))).toEqual([409, 'limit_reached']);
    expect(outcome(await react('groupMember', emoji[20]!))).toEqual([409, 'limit_reached']);
    expect((await react('groupMember', emoji[0]!)).statusCode).toBe(204);
    expect((await react('member', emoji[0]!)).statusCode).toBe(204);
    expect((await react('groupMember', ':party_parrot:')).statusCode).toBe(409);
    const message = Message.parse((await m.call(world.users.member, 'GET', `/api/messages/${sent.id}`)).json());
    expect(message.reactions).toHaveLength(20);
    expect(message.reactions[0]).toEqual({
      emoji: emoji[0],
      user_ids: [world.users.member.id, world.users.groupMember.id],
    });

    // Taking one back makes room; taking back one never given changes nothing.
    expect((await react('member', emoji[19]!, 'DELETE')).statusCode).toBe(204);
    expect((await react('member', emoji[19]!, 'DELETE')).statusCode).toBe(204);
    expect((await react('groupMember', emoji[20]!)).statusCode).toBe(204);

    for (const bad of ['a b', 'x'.repeat(65), '\n']) {
      expect(outcome(await react('member', bad)), bad).toEqual([400, 'validation_error']);
    }
    expect(outcome(await react('outsider', emoji[0]!))).toEqual([404, 'not_found']);
    expect((await m.call(world.users.member, 'DELETE', `/api/messages/${sent.id}`)).statusCode).toBe(204);
    expect(outcome(await react('member', emoji[1]!))).toEqual([404, 'not_found']);
  });

  it('shows the reactions of every message in a history page, its reaction count in step through concurrent adds, removals and a delete', async () => {
    const channel = await m.channel(world);
    const db = t.db.database.db;
    const sent = [];
    for (let i = 0; i < 4; i++) sent.push(await m.send(world.users.member, channel));
    const react = (user: keyof SpacesWorld['users'], id: string, emoji: string, method: 'PUT' | 'DELETE') =>
      m.call(world.users[user], method, `/api/messages/${id}/reactions/${encodeURIComponent(emoji)}`);
    // Message 0 gets none; the others get adds and removals racing each other, some repeated.
    const users = ['member', 'groupMember', 'moderator', 'admin'] as const;
    const ops = [];
    for (const [i, message] of sent.entries()) {
      if (i === 0) continue;
      for (const [u, user] of users.entries()) {
        for (const emoji of ['👍', '🎉', '👀'].slice(0, i)) {
          ops.push(react(user, message.id, emoji, 'PUT'), react(user, message.id, emoji, 'PUT'));
          if ((u + i) % 3 === 0) ops.push(react(user, message.id, emoji, 'DELETE'));
        }
      }
    }
    expect((await Promise.all(ops)).map((r) => r.statusCode)).toEqual(ops.map(() => 204));
    await m.call(world.users.member, 'DELETE', `/api/messages/${sent[3]!.id}`);

    const stored = await db
      .selectFrom('messages')
      .select(['id', 'reaction_count'])
      .where('channel_id', '=', channel)
      .execute();
    const reactions = await db
      .selectFrom('message_reactions')
      .select('message_id')
      .where(
        'message_id',
        'in',
        sent.map((s) => s.id),
      )
      .execute();
    const truth = (id: string) => reactions.filter((r) => r.message_id === id).length;
    for (const row of stored) expect(Number(row.reaction_count), row.id).toBe(truth(row.id));
    expect(truth(sent[2]!.id)).toBeGreaterThan(0);

    const page = (await m.call(world.users.groupMember, 'GET', `/api/channels/${channel}/messages`)).json() as {
      messages: Message[];
    };
    for (const message of page.messages) {
      const shown = message.reactions.reduce((n, r) => n + r.user_ids.length, 0);
      expect(shown, message.id).toBe(truth(message.id));
    }
    expect(page.messages.map((x) => x.reactions.length)).toEqual([0, 1, 2, 0]);
  });

  it('keeps its limits and versions under concurrent edits, reactions, pins and deletes', async () => {
    const channel = await m.channel(world);
    const db = t.db.database.db;

    // Concurrent edits: each is a version of its own.
    const edited = await m.send(world.users.member, channel, { ciphertext: text('v0') });
    const edits = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        m.call(world.users.member, 'PATCH', `/api/messages/${edited.id}`, { ciphertext: text(`v${i}`) }),
      ),
    );
    expect(edits.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    const versions = await db
      .selectFrom('message_versions')
      .select('version')
      .where('message_id', '=', edited.id)
      .orderBy('version')
      .execute();
    expect(versions.map((v) => v.version)).toEqual([0, 1, 2, 3, 4, 5]);

    // 21 different reactions at once: 20 land.
    const reacted = await m.send(world.users.member, channel);
    const results = await Promise.all(
      Array.from({ length: 21 }, (_, i) =>
        m.call(
          world.users[i % 2 ? 'member' : 'groupMember'],
          'PUT',
          `/api/messages/${reacted.id}/reactions/${encodeURIComponent(String.fromCodePoint(0x1f300 + i))}`,
        ),
      ),
    );
    expect(results.filter((r) => r.statusCode === 204)).toHaveLength(20);
    expect(results.filter((r) => outcome(r)[1] === 'limit_reached')).toHaveLength(1);

    // 51 pins at once: 50 land.
    const many: string[] = [];
    for (let i = 0; i < 51; i++) many.push((await m.send(world.users.member, channel)).id);
    const pins = await Promise.all(many.map((id) => m.call(world.users.moderator, 'PUT', `/api/messages/${id}/pin`)));
    expect(pins.filter((r) => r.statusCode === 204)).toHaveLength(50);
    expect(pins.filter((r) => outcome(r)[1] === 'limit_reached')).toHaveLength(1);

    // An edit, a reaction and a pin racing a delete leave nothing of the body behind.
    for (let round = 0; round < 5; round++) {
      const target = await m.send(world.users.member, channel, { ciphertext: text('secret') });
      await m.call(world.users.moderator, 'DELETE', `/api/messages/${many[round]}/pin`);
      await Promise.all([
        m.call(world.users.member, 'PATCH', `/api/messages/${target.id}`, { ciphertext: text('edited secret') }),
        m.call(world.users.groupMember, 'PUT', `/api/messages/${target.id}/reactions/${encodeURIComponent('👀')}`),
        m.call(world.users.moderator, 'PUT', `/api/messages/${target.id}/pin`),
        m.call(world.users.member, 'DELETE', `/api/messages/${target.id}`),
      ]);
      const row = await db
        .selectFrom('messages')
        .select(['ciphertext', 'deleted_at', 'pinned_at'])
        .where('id', '=', target.id)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ ciphertext: '', deleted_at: expect.any(Number), pinned_at: null });
      const left = await db
        .selectFrom('message_versions')
        .select('message_id')
        .where('message_id', '=', target.id)
        .unionAll(db.selectFrom('message_reactions').select('message_id').where('message_id', '=', target.id))
        .execute();
      expect(left).toEqual([]);
    }
  });

  it('slow mode refuses a second message within the window with retry-after; moderators are exempt', async () => {
    const channel = await m.channel(world, { slow_mode_secs: 600 });
    const n = nonce('slow');
    expect((await post('member', channel, { nonce: n })).statusCode).toBe(201);
    const refused = await post('member', channel);
    expect(outcome(refused)).toEqual([429, 'slow_mode']);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    // A retry of the message that went through is not a new message.
    expect((await post('member', channel, { nonce: n })).statusCode).toBe(200);
    // Others have their own window.
    expect((await post('groupMember', channel)).statusCode).toBe(201);
    for (const user of ['moderator', 'owner'] as const) {
      expect((await post(user, channel)).statusCode).toBe(201);
      expect((await post(user, channel)).statusCode).toBe(201);
    }
  });

  it('read-only channels take messages from moderators only', async () => {
    const channel = await m.channel(world, { read_only: true });
    expect(outcome(await post('member', channel))).toEqual([403, 'channel_read_only']);
    expect((await post('moderator', channel)).statusCode).toBe(201);
    expect((await post('owner', channel)).statusCode).toBe(201);
    expect((await m.history(world.users.member, channel)).messages).toHaveLength(2);
  });

  it('archived channels take no messages and no edits, and stay readable', async () => {
    const channel = await m.channel(world);
    const sent = await m.send(world.users.member, channel);
    await m.configure(world, channel, { archived: true });
    expect(outcome(await post('member', channel))).toEqual([409, 'channel_archived']);
    expect(outcome(await post('moderator', channel))).toEqual([409, 'channel_archived']);
    expect(
      outcome(await m.call(world.users.member, 'PATCH', `/api/messages/${sent.id}`, { ciphertext: text('x') })),
    ).toEqual([409, 'channel_archived']);
    expect((await m.history(world.users.member, channel)).messages.map((msg) => msg.id)).toEqual([sent.id]);
  });

  it('refuses messages in a DM where either side blocked the other', async () => {
    const local = await buildSpacesWorld(t, 'block');
    const dm = (user: 'member' | 'groupMember') =>
      m.call(local.users[user], 'POST', `/api/channels/${local.dm}/messages`, {
        nonce: nonce(),
        ciphertext: text('psst'),
        encryption: { scheme: 'pairwise', device_id: 1 },
      });
    const first = await dm('member');
    expect(first.statusCode, first.body).toBe(201);
    const block = await m.call(local.users.groupMember, 'POST', '/api/blocks', { user_id: local.users.member.id });
    expect(block.statusCode, block.body).toBe(201);
    expect(outcome(await dm('member'))).toEqual([403, 'blocked']);
    expect(outcome(await dm('groupMember'))).toEqual([403, 'blocked']);
    const unblock = await m.call(local.users.groupMember, 'DELETE', `/api/blocks/${local.users.member.id}`);
    expect(unblock.statusCode).toBe(204);
    expect((await dm('member')).statusCode).toBe(201);
    const page = await m.history(local.users.groupMember, local.dm);
    expect(page.messages.map((msg) => msg.encryption)).toContainEqual({ scheme: 'pairwise', device_id: 1 });
  });

  it('keeps replies in their channel, and a reply to a reply in the root’s thread', async () => {
    const channel = await m.channel(world);
    const root = await m.send(world.users.member, channel);
    const reply = await m.send(world.users.groupMember, channel, { reply_to: root.id });
    const deeper = await m.send(world.users.member, channel, { reply_to: reply.id });
    const read = async (id: string) =>
      Message.parse((await m.call(world.users.member, 'GET', `/api/messages/${id}`)).json());
    expect(await read(root.id)).toMatchObject({ reply_to: null, thread_root: null });
    expect(await read(reply.id)).toMatchObject({ reply_to: root.id, thread_root: root.id });
    expect(await read(deeper.id)).toMatchObject({ reply_to: reply.id, thread_root: root.id });
    // A message of another channel (even one the sender can read) cannot be replied to here.
    expect(outcome(await post('member', channel, { reply_to: world.a.publicMessage }))).toEqual([404, 'not_found']);
    expect(outcome(await post('member', channel, { reply_to: world.b.publicMessage }))).toEqual([404, 'not_found']);
    expect(outcome(await post('member', channel, { reply_to: 'no-such-message' }))).toEqual([404, 'not_found']);
  });
});

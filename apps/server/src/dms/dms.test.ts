import { randomUUID } from 'node:crypto';
import type { Dm } from '@chatalot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../spaces/events.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';
import {
  caller,
  cardOf,
  dmRowCounts,
  flush,
  freshUser,
  groupDm,
  idsOf,
  memberIds,
  openDm,
  outcome,
  people,
  recordEvents,
  seedCommunity,
  type TestCommunity,
} from './test-helpers.js';

describe.each(DIALECTS)('DMs on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;
  let c: TestCommunity;
  let other: TestCommunity;
  let outsider: TestUser;
  let instanceAdmin: TestUser;
  const db = () => t.db.database.db;
  /** `n` fresh plain members of community c. */
  const inC = (n: number) => people(t, n, c.id);
  const dmsOf = async (user: TestUser) => {
    const res = await call(user, 'GET', '/api/dms');
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { dms: Dm[] }).dms;
  };
  const block = async (blocker: TestUser, blocked: TestUser) =>
    expect((await call(blocker, 'POST', '/api/blocks', { user_id: blocked.id })).statusCode).toBe(201);
  const suspend = (user: TestUser) =>
    db()
      .updateTable('users')
      .set({ suspended_at: Date.now(), suspended_reason: 'test' })
      .where('id', '=', user.id)
      .execute();

  beforeAll(async () => {
    t = await createTestApp(dialect);
    call = caller(t);
    c = await seedCommunity(t, 'd');
    other = await seedCommunity(t, 'e');
    outsider = await freshUser(t, 'outs');
    instanceAdmin = await freshUser(t, 'iadm', { instanceRole: 'admin' });
  });
  afterAll(() => t.close());

  describe('1:1 DMs', () => {
    it('creates the DM once (201), then returns the same one from either side (200)', async () => {
      const [ann, ben, third] = await inC(3);
      const events = await recordEvents(t, topics.user(ann!.id), topics.user(ben!.id), topics.user(third!.id));

      const first = await call(ann!, 'POST', '/api/dms', { user_id: ben!.id });
      expect(first.statusCode, first.body).toBe(201);
      const dm = first.json() as Dm;
      expect(dm).toEqual({
        id: expect.any(String),
        kind: 'dm',
        name: '',
        members: [cardOf(ben!)],
        created_at: expect.any(Number),
        updated_at: expect.any(Number),
      });

      const again = await call(ann!, 'POST', '/api/dms', { user_id: ben!.id });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual(dm);
      const fromBen = await call(ben!, 'POST', '/api/dms', { user_id: ann!.id });
      expect(fromBen.statusCode).toBe(200);
      expect(fromBen.json()).toMatchObject({ id: dm.id, kind: 'dm', members: [cardOf(ann!)] });

      expect((await call(ben!, 'GET', `/api/dms/${dm.id}`)).json()).toMatchObject({
        id: dm.id,
        members: [cardOf(ann!)],
      });
      expect((await dmsOf(ann!)).map((d) => d.id)).toEqual([dm.id]);
      expect((await dmsOf(ben!)).map((d) => d.id)).toEqual([dm.id]);
      expect(await dmsOf(third!)).toEqual([]);
      expect(await memberIds(t, dm.id)).toEqual(idsOf([ann!, ben!]));

      await flush();
      await events.stop();
      // Announced once, to both members and nobody else; opening it again announces nothing.
      const created = { type: 'dm.created', channel_id: dm.id, kind: 'dm' };
      expect(events.seen.map((s) => s.topic).sort()).toEqual([topics.user(ann!.id), topics.user(ben!.id)].sort());
      for (const s of events.seen) {
        expect(s.event).toMatchObject(created);
        expect((s.event.member_ids as string[]).sort()).toEqual(idsOf([ann!, ben!]));
      }
    });

    it('gives exactly one DM when both people open it at the same time', async () => {
      const [ann, ben] = await inC(2);
      const events = await recordEvents(t, topics.user(ann!.id), topics.user(ben!.id));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          i % 2 === 0
            ? call(ann!, 'POST', '/api/dms', { user_id: ben!.id })
            : call(ben!, 'POST', '/api/dms', { user_id: ann!.id }),
        ),
      );
      for (const res of results) expect([200, 201], res.body).toContain(res.statusCode);
      expect(results.filter((r) => r.statusCode === 201)).toHaveLength(1);
      const ids = new Set(results.map((r) => (r.json() as Dm).id));
      expect(ids.size).toBe(1);
      const [id] = [...ids];

      const channels = await db()
        .selectFrom('channels')
        .innerJoin('channel_members as m', 'm.channel_id', 'channels.id')
        .select('channels.id')
        .distinct()
        .where('channels.kind', '=', 'dm')
        .where('m.user_id', 'in', [ann!.id, ben!.id])
        .execute();
      expect(channels.map((r) => r.id)).toEqual([id]);
      expect(await memberIds(t, id!)).toEqual(idsOf([ann!, ben!]));
      await flush();
      await events.stop();
      expect(events.types(topics.user(ann!.id))).toEqual(['dm.created']);
      expect(events.types(topics.user(ben!.id))).toEqual(['dm.created']);
    });

    it('refuses a DM with yourself, with people you share no community with, and with unknown or suspended users', async () => {
      const [ann, sleepy] = await inC(2);
      const [elsewhere] = await people(t, 1, other.id);
      await suspend(sleepy!);
      const before = await dmRowCounts(t);

      const open = async (as: TestUser, userId: string) =>
        outcome(await call(as, 'POST', '/api/dms', { user_id: userId }));
      expect(await open(ann!, ann!.id)).toEqual([400, 'bad_request']);
      // Unknown, unreachable and suspended users all get the same answer: ids cannot be probed.
      expect(await open(ann!, elsewhere!.id)).toEqual([404, 'not_found']);
      expect(await open(elsewhere!, ann!.id)).toEqual([404, 'not_found']);
      expect(await open(ann!, outsider.id)).toEqual([404, 'not_found']);
      expect(await open(outsider, ann!.id)).toEqual([404, 'not_found']);
      expect(await open(ann!, randomUUID())).toEqual([404, 'not_found']);
      expect(await open(ann!, sleepy!.id)).toEqual([404, 'not_found']);
      // A regular user cannot reach an instance admin they share no community with.
      expect(await open(ann!, instanceAdmin.id)).toEqual([404, 'not_found']);
      expect(outcome(await call(null, 'POST', '/api/dms', { user_id: ann!.id }))[0]).toBe(401);
      expect(await dmRowCounts(t)).toEqual(before);
    });

    it('does not count a community someone was banned from as shared', async () => {
      const [ann, troll] = await inC(2);
      const ban = await call(c.owner, 'POST', `/api/communities/${c.id}/bans`, { user_id: troll!.id });
      expect(ban.statusCode, ban.body).toBe(201);
      const before = await dmRowCounts(t);
      expect(outcome(await call(ann!, 'POST', '/api/dms', { user_id: troll!.id }))).toEqual([404, 'not_found']);
      expect(outcome(await call(troll!, 'POST', '/api/dms', { user_id: ann!.id }))).toEqual([404, 'not_found']);
      expect(await dmRowCounts(t)).toEqual(before);
    });

    it('refuses a new DM after a block in either direction, with one message that does not say who blocked', async () => {
      const [ann, ben, cat] = await inC(3);
      await block(ann!, ben!);
      await block(cat!, ann!);
      const before = await dmRowCounts(t);
      const refusals = [
        await call(ann!, 'POST', '/api/dms', { user_id: ben!.id }),
        await call(ben!, 'POST', '/api/dms', { user_id: ann!.id }),
        await call(ann!, 'POST', '/api/dms', { user_id: cat!.id }),
        await call(cat!, 'POST', '/api/dms', { user_id: ann!.id }),
      ];
      for (const res of refusals) expect(outcome(res)).toEqual([403, 'blocked']);
      expect(new Set(refusals.map((r) => (r.json() as { error: { message: string } }).error.message)).size).toBe(1);
      expect(await dmRowCounts(t)).toEqual(before);

      expect((await call(ann!, 'DELETE', `/api/blocks/${ben!.id}`)).statusCode).toBe(204);
      expect((await call(ben!, 'POST', '/api/dms', { user_id: ann!.id })).statusCode).toBe(201);
    });

    it('lets instance admins DM anyone not suspended, and the DM then works both ways', async () => {
      const [elsewhere] = await people(t, 1, other.id);
      const loner = await freshUser(t, 'loner');
      const res = await call(instanceAdmin, 'POST', '/api/dms', { user_id: loner.id });
      expect(res.statusCode, res.body).toBe(201);
      const dm = res.json() as Dm;
      // The loner shares no community with the admin, but the existing DM is theirs too.
      const back = await call(loner, 'POST', '/api/dms', { user_id: instanceAdmin.id });
      expect(back.statusCode).toBe(200);
      expect(back.json()).toMatchObject({ id: dm.id, members: [cardOf(instanceAdmin)] });
      expect((await call(loner, 'GET', `/api/dms/${dm.id}`)).statusCode).toBe(200);
      expect((await call(instanceAdmin, 'POST', '/api/dms', { user_id: elsewhere!.id })).statusCode).toBe(201);

      const sleepy = await freshUser(t, 'sleepy');
      await suspend(sleepy);
      expect(outcome(await call(instanceAdmin, 'POST', '/api/dms', { user_id: sleepy.id }))).toEqual([
        404,
        'not_found',
      ]);
      // A block still applies to instance admins.
      const shy = await freshUser(t, 'shy');
      await block(shy, instanceAdmin);
      expect(outcome(await call(instanceAdmin, 'POST', '/api/dms', { user_id: shy.id }))).toEqual([403, 'blocked']);
    });

    it('cannot be renamed, grown or left', async () => {
      const [ann, ben, cat] = await inC(3);
      const dm = await openDm(t, ann!, ben!);
      expect(outcome(await call(ann!, 'PATCH', `/api/dms/${dm.id}`, { name: 'Ours' }))).toEqual([400, 'bad_request']);
      expect(outcome(await call(ann!, 'POST', `/api/dms/${dm.id}/members`, { user_id: cat!.id }))).toEqual([
        400,
        'bad_request',
      ]);
      expect(outcome(await call(ben!, 'POST', `/api/dms/${dm.id}/leave`))).toEqual([400, 'bad_request']);
      expect(await call(ann!, 'GET', `/api/dms/${dm.id}`).then((r) => r.json())).toEqual(dm);
      expect(await memberIds(t, dm.id)).toEqual(idsOf([ann!, ben!]));
    });
  });

  describe('group DMs', () => {
    it('creates a group DM of the creator and 2–9 others, announced to each of them', async () => {
      const [ann, ben, cat] = await inC(3);
      const events = await recordEvents(t, ...[ann!, ben!, cat!].map((u) => topics.user(u.id)));
      const dm = await groupDm(t, ann!, [ben!, cat!], '  Trip  ');
      expect(dm).toEqual({
        id: expect.any(String),
        kind: 'group_dm',
        name: 'Trip',
        members: expect.arrayContaining([cardOf(ben!), cardOf(cat!)]),
        created_at: expect.any(Number),
        updated_at: expect.any(Number),
      });
      expect(dm.members).toHaveLength(2);
      expect(await memberIds(t, dm.id)).toEqual(idsOf([ann!, ben!, cat!]));
      for (const u of [ben!, cat!]) {
        const seen = await call(u, 'GET', `/api/dms/${dm.id}`);
        expect(seen.statusCode).toBe(200);
        expect(idsOf((seen.json() as Dm).members)).toEqual(idsOf([ann!, ben!, cat!].filter((x) => x !== u)));
        expect((await dmsOf(u)).map((d) => d.id)).toContain(dm.id);
      }
      await flush();
      await events.stop();
      for (const u of [ann!, ben!, cat!]) expect(events.types(topics.user(u.id))).toEqual(['dm.created']);
      expect(events.seen[0]!.event).toMatchObject({ type: 'dm.created', channel_id: dm.id, kind: 'group_dm' });

      // Unnamed by default; nine others make ten people, the most a group DM holds.
      const nine = await inC(9);
      const big = await groupDm(t, ann!, nine);
      expect(big).toMatchObject({ kind: 'group_dm', name: '' });
      expect(big.members).toHaveLength(9);
      // Two group DMs of the same people are two conversations.
      const twin = await groupDm(t, ann!, [ben!, cat!]);
      expect(twin.id).not.toBe(dm.id);
    });

    it('refuses a group DM with yourself, too few people, or anyone out of reach or blocked, creating nothing', async () => {
      const [ann, ben, cat, dan] = await inC(4);
      const [elsewhere] = await people(t, 1, other.id);
      const sleepy = (await inC(1))[0]!;
      await suspend(sleepy);
      await block(cat!, dan!);
      const before = await dmRowCounts(t);
      const create = async (as: TestUser, ids: string[]) =>
        outcome(await call(as, 'POST', '/api/dms/group', { user_ids: ids }));

      expect(await create(ann!, [ann!.id, ben!.id])).toEqual([400, 'bad_request']);
      expect(await create(ann!, [ben!.id, ben!.id])).toEqual([400, 'bad_request']);
      expect(await create(ann!, [ben!.id, elsewhere!.id])).toEqual([404, 'not_found']);
      expect(await create(ann!, [ben!.id, outsider.id])).toEqual([404, 'not_found']);
      expect(await create(ann!, [ben!.id, sleepy.id])).toEqual([404, 'not_found']);
      expect(await create(ann!, [ben!.id, randomUUID()])).toEqual([404, 'not_found']);
      expect(await create(outsider, [ben!.id, cat!.id])).toEqual([404, 'not_found']);
      // A block between two of the invitees counts too, not only one involving the creator.
      expect(await create(ann!, [cat!.id, dan!.id])).toEqual([403, 'blocked']);
      expect(await create(dan!, [ann!.id, cat!.id])).toEqual([403, 'blocked']);
      expect(await dmRowCounts(t)).toEqual(before);

      // Instance admins are exempt from reach as the creator, not from blocks.
      const withAdmin = await groupDm(t, instanceAdmin, [ben!, elsewhere!]);
      expect(withAdmin.members).toHaveLength(2);
      expect(outcome(await call(instanceAdmin, 'POST', '/api/dms/group', { user_ids: [cat!.id, dan!.id] }))).toEqual([
        403,
        'blocked',
      ]);
    });

    it('lets any member rename it, and an empty name clears it', async () => {
      const [ann, ben, cat] = await inC(3);
      const dm = await groupDm(t, ann!, [ben!, cat!], 'Trip');
      const events = await recordEvents(t, topics.channel(dm.id));
      const res = await call(ben!, 'PATCH', `/api/dms/${dm.id}`, { name: '  Road trip ' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ id: dm.id, kind: 'group_dm', name: 'Road trip' });
      expect((await call(cat!, 'GET', `/api/dms/${dm.id}`)).json()).toMatchObject({ name: 'Road trip' });
      expect((await call(cat!, 'PATCH', `/api/dms/${dm.id}`, { name: '   ' })).json()).toMatchObject({ name: '' });
      await flush();
      await events.stop();
      expect(events.seen.map((s) => s.event)).toEqual([
        { type: 'channel.updated', channel_id: dm.id, name: 'Road trip' },
        { type: 'channel.updated', channel_id: dm.id, name: '' },
      ]);
    });

    it('adds someone the adder can reach and nobody in it blocked, telling the channel and the newcomer', async () => {
      const [ann, ben, cat, dan, eve, fay, gus] = await inC(7);
      const [elsewhere] = await people(t, 1, other.id);
      const sleepy = (await inC(1))[0]!;
      await suspend(sleepy);
      const dm = await groupDm(t, ann!, [ben!, cat!]);
      const events = await recordEvents(t, topics.channel(dm.id), topics.user(dan!.id));
      const add = (as: TestUser, userId: string) => call(as, 'POST', `/api/dms/${dm.id}/members`, { user_id: userId });

      const res = await add(ben!, dan!.id);
      expect(res.statusCode, res.body).toBe(200);
      expect(idsOf((res.json() as Dm).members)).toEqual(idsOf([ann!, cat!, dan!]));
      expect(await memberIds(t, dm.id)).toEqual(idsOf([ann!, ben!, cat!, dan!]));
      expect((await call(dan!, 'GET', `/api/dms/${dm.id}`)).statusCode).toBe(200);
      expect((await dmsOf(dan!)).map((d) => d.id)).toEqual([dm.id]);
      await flush();
      await events.stop();
      expect(events.seen.filter((s) => s.topic === topics.channel(dm.id)).map((s) => s.event)).toEqual([
        { type: 'member.joined', channel_id: dm.id, user_id: dan!.id, added_by: ben!.id },
      ]);
      const toDan = events.seen.filter((s) => s.topic === topics.user(dan!.id)).map((s) => s.event);
      expect(toDan).toEqual([
        { type: 'dm.created', channel_id: dm.id, kind: 'group_dm', member_ids: expect.any(Array) },
      ]);
      expect((toDan[0]!.member_ids as string[]).sort()).toEqual(idsOf([ann!, ben!, cat!, dan!]));

      await block(cat!, eve!);
      await block(fay!, dan!);
      const before = await dmRowCounts(t);
      expect(outcome(await add(ann!, dan!.id))).toEqual([409, 'conflict']);
      expect(outcome(await add(ann!, elsewhere!.id))).toEqual([404, 'not_found']);
      expect(outcome(await add(ann!, outsider.id))).toEqual([404, 'not_found']);
      expect(outcome(await add(ann!, sleepy.id))).toEqual([404, 'not_found']);
      expect(outcome(await add(ann!, randomUUID()))).toEqual([404, 'not_found']);
      // A block between the newcomer and anyone already in (not just the adder), either way.
      expect(outcome(await add(ann!, eve!.id))).toEqual([403, 'blocked']);
      expect(outcome(await add(ann!, fay!.id))).toEqual([403, 'blocked']);
      // Someone outside the group DM cannot add anyone, not even themselves.
      expect(outcome(await add(gus!, gus!.id))).toEqual([404, 'not_found']);
      expect(await dmRowCounts(t)).toEqual(before);
      expect(await memberIds(t, dm.id)).toEqual(idsOf([ann!, ben!, cat!, dan!]));
    });

    it('holds at most 10 people: the 11th is refused with limit_reached, also when added at the same time', async () => {
      const [ann, ...rest] = await inC(12);
      const full = await groupDm(t, ann!, rest.slice(0, 9));
      expect(await memberIds(t, full.id)).toHaveLength(10);
      expect(outcome(await call(ann!, 'POST', `/api/dms/${full.id}/members`, { user_id: rest[9]!.id }))).toEqual([
        409,
        'limit_reached',
      ]);
      // Ten ids in the request would be eleven people: refused by the schema.
      expect(
        outcome(await call(ann!, 'POST', '/api/dms/group', { user_ids: rest.slice(0, 10).map((u) => u.id) })),
      ).toEqual([400, 'validation_error']);
      expect(await memberIds(t, full.id)).toHaveLength(10);

      // Nine people and two concurrent adds: one gets the last seat.
      const nine = await groupDm(t, ann!, rest.slice(0, 8));
      const results = await Promise.all(
        [rest[8]!, rest[9]!].map((u, i) =>
          call(i === 0 ? ann! : rest[0]!, 'POST', `/api/dms/${nine.id}/members`, { user_id: u.id }),
        ),
      );
      expect(results.map((r) => outcome(r)).sort()).toEqual([
        [200, undefined],
        [409, 'limit_reached'],
      ]);
      expect(await memberIds(t, nine.id)).toHaveLength(10);
    });

    it('lets members leave; the last one out deletes it', async () => {
      const [ann, ben, cat] = await inC(3);
      const dm = await groupDm(t, ann!, [ben!, cat!]);
      const events = await recordEvents(t, topics.channel(dm.id), topics.user(ben!.id));
      const leave = (u: TestUser) => call(u, 'POST', `/api/dms/${dm.id}/leave`);

      expect((await leave(ben!)).statusCode).toBe(204);
      expect(outcome(await call(ben!, 'GET', `/api/dms/${dm.id}`))).toEqual([404, 'not_found']);
      expect((await dmsOf(ben!)).map((d) => d.id)).not.toContain(dm.id);
      expect(outcome(await leave(ben!))).toEqual([404, 'not_found']);
      expect((await call(ann!, 'GET', `/api/dms/${dm.id}`)).json()).toMatchObject({ members: [cardOf(cat!)] });
      await flush();
      await events.stop();
      const left = { type: 'member.left', channel_id: dm.id, user_id: ben!.id };
      expect(events.seen).toEqual([
        { topic: topics.channel(dm.id), event: left },
        { topic: topics.user(ben!.id), event: left },
      ]);

      expect((await leave(ann!)).statusCode).toBe(204);
      expect((await leave(cat!)).statusCode).toBe(204);
      expect(await db().selectFrom('channels').select('id').where('id', '=', dm.id).execute()).toEqual([]);
      expect(await memberIds(t, dm.id)).toEqual([]);
    });
  });

  describe('who sees a DM', () => {
    it('answers 404 on every DM route to anyone not in it: community staff and instance admins included', async () => {
      const [ann, ben, cat, dan] = await inC(4);
      const one = await openDm(t, ann!, ben!);
      const group = await groupDm(t, ann!, [ben!, cat!], 'Ours');
      const before = await dmRowCounts(t);
      for (const stranger of [dan!, c.owner, c.admin, c.moderator, outsider, instanceAdmin]) {
        for (const dm of [one, group]) {
          const attempts = [
            await call(stranger, 'GET', `/api/dms/${dm.id}`),
            await call(stranger, 'PATCH', `/api/dms/${dm.id}`, { name: 'Mine' }),
            await call(stranger, 'POST', `/api/dms/${dm.id}/members`, { user_id: stranger.id }),
            await call(stranger, 'POST', `/api/dms/${dm.id}/members`, { user_id: dan!.id }),
            await call(stranger, 'POST', `/api/dms/${dm.id}/leave`),
          ];
          for (const res of attempts)
            expect(outcome(res), `${stranger.username} ${res.body}`).toEqual([404, 'not_found']);
        }
        expect((await dmsOf(stranger)).map((d) => d.id)).not.toContain(one.id);
        expect((await dmsOf(stranger)).map((d) => d.id)).not.toContain(group.id);
      }
      for (const [method, url] of [
        ['GET', `/api/dms/${group.id}`],
        ['POST', `/api/dms/${group.id}/leave`],
        ['GET', '/api/dms'],
      ] as const) {
        expect(outcome(await call(null, method, url))[0]).toBe(401);
      }
      expect(await dmRowCounts(t)).toEqual(before);
      expect((await call(ann!, 'GET', `/api/dms/${group.id}`)).json()).toMatchObject({ name: 'Ours' });
      expect(await memberIds(t, group.id)).toEqual(idsOf([ann!, ben!, cat!]));
    });

    it('answers 404 for unknown ids and for channels of groups, even to their members', async () => {
      const [ann] = await inC(1);
      const group = await call(c.owner, 'POST', `/api/communities/${c.id}/groups`, {
        name: 'Lounge',
        visibility: 'public',
      });
      expect(group.statusCode, group.body).toBe(201);
      const channels = await call(ann!, 'GET', `/api/groups/${(group.json() as { id: string }).id}/channels`);
      expect(channels.statusCode, channels.body).toBe(200);
      const general = (channels.json() as { channels: { id: string }[] }).channels[0]!.id;
      for (const id of [general, randomUUID()]) {
        expect(outcome(await call(ann!, 'GET', `/api/dms/${id}`))).toEqual([404, 'not_found']);
        expect(outcome(await call(c.owner, 'PATCH', `/api/dms/${id}`, { name: 'x' }))).toEqual([404, 'not_found']);
        expect(outcome(await call(ann!, 'POST', `/api/dms/${id}/leave`))).toEqual([404, 'not_found']);
        expect(outcome(await call(c.owner, 'POST', `/api/dms/${id}/members`, { user_id: ann!.id }))).toEqual([
          404,
          'not_found',
        ]);
      }
      expect((await dmsOf(ann!)).map((d) => d.id)).not.toContain(general);
    });

    it('lists only your own DMs, each with its other members', async () => {
      const [ann, ben, cat, dan] = await inC(4);
      const one = await openDm(t, ann!, ben!);
      const group = await groupDm(t, ann!, [ben!, cat!]);
      const theirs = await openDm(t, cat!, dan!);
      const mine = await dmsOf(ann!);
      expect(mine.map((d) => d.id).sort()).toEqual([one.id, group.id].sort());
      expect(mine.find((d) => d.id === one.id)).toMatchObject({ kind: 'dm', members: [cardOf(ben!)] });
      expect(idsOf(mine.find((d) => d.id === group.id)!.members)).toEqual(idsOf([ben!, cat!]));
      expect((await dmsOf(cat!)).map((d) => d.id).sort()).toEqual([group.id, theirs.id].sort());
    });

    it('refuses suspended members, and the DM stays for the others', async () => {
      const [ann, ben] = await inC(2);
      const dm = await openDm(t, ann!, ben!);
      await suspend(ben!);
      expect(outcome(await call(ben!, 'GET', `/api/dms/${dm.id}`))).toEqual([403, 'account_suspended']);
      expect(outcome(await call(ben!, 'GET', '/api/dms'))).toEqual([403, 'account_suspended']);
      // The DM itself stays, and the other member still sees it.
      expect((await call(ann!, 'GET', `/api/dms/${dm.id}`)).json()).toMatchObject({ members: [cardOf(ben!)] });
    });
  });

  it('refuses bad input with validation_error and changes nothing', async () => {
    const [ann, ben, cat] = await inC(3);
    const group = await groupDm(t, ann!, [ben!, cat!], 'Keep');
    const before = await dmRowCounts(t);
    const long = 'x'.repeat(65);
    const cases: [string, string, unknown][] = [
      ['POST', '/api/dms', {}],
      ['POST', '/api/dms', { user_id: '' }],
      ['POST', '/api/dms', { user_id: long }],
      ['POST', '/api/dms', { user_id: 42 }],
      ['POST', '/api/dms', { user_id: null }],
      ['POST', '/api/dms/group', {}],
      ['POST', '/api/dms/group', { user_ids: [ben!.id] }],
      ['POST', '/api/dms/group', { user_ids: ben!.id }],
      ['POST', '/api/dms/group', { user_ids: [ben!.id, ''] }],
      ['POST', '/api/dms/group', { user_ids: [ben!.id, cat!.id], name: 'n'.repeat(65) }],
      ['POST', '/api/dms/group', { user_ids: [ben!.id, cat!.id], name: 7 }],
      ['PATCH', `/api/dms/${group.id}`, {}],
      ['PATCH', `/api/dms/${group.id}`, { name: 'n'.repeat(65) }],
      ['PATCH', `/api/dms/${group.id}`, { name: null }],
      ['POST', `/api/dms/${group.id}/members`, {}],
      ['POST', `/api/dms/${group.id}/members`, { user_id: long }],
      ['GET', `/api/dms/${long}`, undefined],
      ['POST', `/api/dms/${long}/leave`, undefined],
    ];
    for (const [method, url, payload] of cases) {
      const res = await call(ann!, method as 'POST', url, payload);
      expect(outcome(res), `${method} ${url} ${JSON.stringify(payload)}`).toEqual([400, 'validation_error']);
    }
    expect(await dmRowCounts(t)).toEqual(before);
    expect((await call(ann!, 'GET', `/api/dms/${group.id}`)).json()).toMatchObject({ name: 'Keep' });
    expect(await memberIds(t, group.id)).toEqual(idsOf([ann!, ben!, cat!]));
  });
});

import { randomUUID } from 'node:crypto';
import type { BlockedUser, Dm } from '@chatalot/protocol';
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

describe.each(DIALECTS)('user blocks on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;
  let c: TestCommunity;
  let instanceAdmin: TestUser;
  const inC = (n: number) => people(t, n, c.id);
  const blocksOf = async (user: TestUser) => {
    const res = await call(user, 'GET', '/api/blocks');
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { blocks: BlockedUser[] }).blocks;
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    call = caller(t);
    c = await seedCommunity(t, 'b');
    instanceAdmin = await freshUser(t, 'iadm', { instanceRole: 'admin' });
  });
  afterAll(() => t.close());

  it('blocks, lists and unblocks, each idempotent, and tells only the blocker', async () => {
    const [ann, ben, cat] = await inC(3);
    const events = await recordEvents(t, topics.user(ann!.id), topics.user(ben!.id));

    const res = await call(ann!, 'POST', '/api/blocks', { user_id: ben!.id });
    expect(res.statusCode, res.body).toBe(201);
    const blocked = res.json() as BlockedUser;
    expect(blocked).toEqual({ user: cardOf(ben!), created_at: expect.any(Number) });
    // Blocking again changes nothing: same entry, same time, no second event.
    const again = await call(ann!, 'POST', '/api/blocks', { user_id: ben!.id });
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(blocked);
    expect((await call(ann!, 'POST', '/api/blocks', { user_id: cat!.id })).statusCode).toBe(201);

    const listed = await blocksOf(ann!);
    expect(listed).toHaveLength(2);
    expect(listed).toContainEqual(blocked);
    expect(idsOf(listed.map((b) => b.user))).toEqual(idsOf([ben!, cat!]));
    // The blocked person never learns of it.
    expect(await blocksOf(ben!)).toEqual([]);

    expect((await call(ann!, 'DELETE', `/api/blocks/${ben!.id}`)).statusCode).toBe(204);
    expect((await call(ann!, 'DELETE', `/api/blocks/${ben!.id}`)).statusCode).toBe(204);
    expect((await call(ann!, 'DELETE', `/api/blocks/${randomUUID()}`)).statusCode).toBe(204);
    expect((await blocksOf(ann!)).map((b) => b.user.id)).toEqual([cat!.id]);
    // Only the blocker's own entry goes: ben unblocking ann is a no-op for ann's list.
    expect((await call(ben!, 'DELETE', `/api/blocks/${ann!.id}`)).statusCode).toBe(204);
    expect((await blocksOf(ann!)).map((b) => b.user.id)).toEqual([cat!.id]);

    await flush();
    await events.stop();
    expect(events.seen).toEqual([
      { topic: topics.user(ann!.id), event: { type: 'user.blocked', user_id: ben!.id } },
      { topic: topics.user(ann!.id), event: { type: 'user.blocked', user_id: cat!.id } },
      { topic: topics.user(ann!.id), event: { type: 'user.unblocked', user_id: ben!.id } },
    ]);
  });

  it('refuses blocking yourself or an unknown user', async () => {
    const [ann] = await inC(1);
    const before = await dmRowCounts(t);
    expect(outcome(await call(ann!, 'POST', '/api/blocks', { user_id: ann!.id }))).toEqual([400, 'bad_request']);
    expect(outcome(await call(ann!, 'POST', '/api/blocks', { user_id: randomUUID() }))).toEqual([404, 'not_found']);
    expect(await dmRowCounts(t)).toEqual(before);
    expect(await blocksOf(ann!)).toEqual([]);
  });

  it('keeps existing DMs and group DMs, but stops new ones between the two', async () => {
    const [ann, ben, cat] = await inC(3);
    const dm = await openDm(t, ann!, ben!);
    const group = await groupDm(t, ann!, [ben!, cat!], 'Before');
    expect((await call(ben!, 'POST', '/api/blocks', { user_id: ann!.id })).statusCode).toBe(201);

    for (const u of [ann!, ben!]) {
      expect((await call(u, 'GET', `/api/dms/${dm.id}`)).statusCode).toBe(200);
      expect((await call(u, 'GET', `/api/dms/${group.id}`)).statusCode).toBe(200);
      const listed = (await call(u, 'GET', '/api/dms')).json() as { dms: Dm[] };
      expect(listed.dms.map((d) => d.id).sort()).toEqual([dm.id, group.id].sort());
    }
    // Opening the existing DM from either side still returns it.
    const reopened = await call(ann!, 'POST', '/api/dms', { user_id: ben!.id });
    expect(reopened.statusCode).toBe(200);
    expect((reopened.json() as Dm).id).toBe(dm.id);
    expect((await call(ben!, 'POST', '/api/dms', { user_id: ann!.id })).statusCode).toBe(200);
    // The existing group DM goes on: renaming works, nobody is removed.
    expect((await call(cat!, 'PATCH', `/api/dms/${group.id}`, { name: 'After' })).statusCode).toBe(200);
    expect(await memberIds(t, group.id)).toEqual(idsOf([ann!, ben!, cat!]));

    // New conversations holding both are refused, whoever starts them.
    const before = await dmRowCounts(t);
    for (const as of [ann!, ben!, cat!]) {
      const others = [ann!, ben!, cat!].filter((u) => u !== as).map((u) => u.id);
      expect(outcome(await call(as, 'POST', '/api/dms/group', { user_ids: others }))).toEqual([403, 'blocked']);
    }
    expect(await dmRowCounts(t)).toEqual(before);
  });

  it('works on people you share no community with, such as an instance admin', async () => {
    const loner = await freshUser(t, 'loner');
    expect((await call(loner, 'POST', '/api/blocks', { user_id: instanceAdmin.id })).statusCode).toBe(201);
    expect(outcome(await call(instanceAdmin, 'POST', '/api/dms', { user_id: loner.id }))).toEqual([403, 'blocked']);
    expect((await call(loner, 'DELETE', `/api/blocks/${instanceAdmin.id}`)).statusCode).toBe(204);
    expect((await call(instanceAdmin, 'POST', '/api/dms', { user_id: loner.id })).statusCode).toBe(201);
  });

  it('refuses anonymous callers and bad input, changing nothing', async () => {
    const [ann, ben] = await inC(2);
    expect((await call(ann!, 'POST', '/api/blocks', { user_id: ben!.id })).statusCode).toBe(201);
    const before = await dmRowCounts(t);
    expect(outcome(await call(null, 'GET', '/api/blocks'))[0]).toBe(401);
    expect(outcome(await call(null, 'POST', '/api/blocks', { user_id: ben!.id }))[0]).toBe(401);
    expect(outcome(await call(null, 'DELETE', `/api/blocks/${ben!.id}`))[0]).toBe(401);
    for (const payload of [{}, { user_id: '' }, { user_id: 'x'.repeat(65) }, { user_id: 5 }, { user_id: [ben!.id] }]) {
      expect(outcome(await call(ann!, 'POST', '/api/blocks', payload)), JSON.stringify(payload)).toEqual([
        400,
        'validation_error',
      ]);
    }
    expect(outcome(await call(ann!, 'DELETE', `/api/blocks/${'x'.repeat(65)}`))).toEqual([400, 'validation_error']);
    expect(await dmRowCounts(t)).toEqual(before);
    expect((await blocksOf(ann!)).map((b) => b.user.id)).toEqual([ben!.id]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../spaces/events.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';
import { caller, communityWith, createInvite, freshUser, join, recordEvents } from './test-helpers.js';

/**
 * The broker events of membership changes that the other suites do not look at: leaving,
 * nicknames, bans reaching the groups, unbans.
 */
describe.each(DIALECTS)('community membership events on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;
  let owner: TestUser;
  let a: Awaited<ReturnType<typeof communityWith>>;
  let publicGroup: string;

  beforeAll(async () => {
    t = await createTestApp(dialect, { env: { COMMUNITY_CREATION_MODE: 'open' } });
    call = caller(t);
    owner = await freshUser(t, 'owner');
    a = await communityWith(t, owner, { mod: 'moderator' });
    const res = await call(owner, 'POST', `/api/communities/${a.id}/groups`, { name: 'Hall', visibility: 'public' });
    expect(res.statusCode, res.body).toBe(201);
    publicGroup = (res.json() as { id: string }).id;
  });
  afterAll(() => t.close());

  const newcomer = async (prefix: string) => {
    const user = await freshUser(t, prefix);
    await join(t, user, await createInvite(t, owner, a.id));
    return user;
  };

  it('tells the community, the member and each of their groups when a member leaves', async () => {
    const user = await newcomer('leaver');
    const events = await recordEvents(t, topics.community(a.id), topics.user(user.id), topics.group(publicGroup));
    expect((await call(user, 'POST', `/api/communities/${a.id}/leave`)).statusCode).toBe(204);
    await events.stop();
    expect(events.types(topics.community(a.id))).toEqual(['member.left']);
    expect(events.types(topics.user(user.id))).toEqual(['member.left']);
    expect(events.types(topics.group(publicGroup))).toEqual(['member.left']);
    expect(events.seen.find((s) => s.topic === topics.user(user.id))!.event).toMatchObject({
      community_id: a.id,
      user_id: user.id,
      group_ids: expect.arrayContaining([publicGroup]),
    });
  });

  it('tells the groups a banned member was removed from, and everyone of an unban', async () => {
    const user = await newcomer('banned');
    const events = await recordEvents(t, topics.community(a.id), topics.user(user.id), topics.group(publicGroup));
    expect((await call(a.users.mod!, 'POST', `/api/communities/${a.id}/bans`, { user_id: user.id })).statusCode).toBe(
      201,
    );
    expect((await call(a.users.mod!, 'DELETE', `/api/communities/${a.id}/bans/${user.id}`)).statusCode).toBe(204);
    await events.stop();
    expect(events.types(topics.group(publicGroup))).toEqual(['member.banned']);
    expect(events.types(topics.community(a.id))).toEqual(['member.banned', 'member.unbanned']);
    expect(events.types(topics.user(user.id))).toEqual(['member.banned', 'member.unbanned']);
  });

  it('tells the community and the member of a nickname change, and nothing of a refused one', async () => {
    const user = await newcomer('nick');
    const url = `/api/communities/${a.id}/members/${user.id}`;
    const events = await recordEvents(t, topics.community(a.id), topics.user(user.id));
    expect((await call(user, 'PATCH', url, { nickname: 'Nicky' })).statusCode).toBe(200);
    expect((await call(user, 'PATCH', url, { nickname: 'n'.repeat(65) })).statusCode).toBe(400);
    expect((await call(a.users.mod!, 'PATCH', url, { nickname: null })).statusCode).toBe(200);
    await events.stop();
    for (const topic of [topics.community(a.id), topics.user(user.id)]) {
      expect(events.seen.filter((s) => s.topic === topic).map((s) => s.event)).toEqual([
        expect.objectContaining({ type: 'member.updated', user_id: user.id, nickname: 'Nicky' }),
        expect.objectContaining({ type: 'member.updated', user_id: user.id, nickname: null }),
      ]);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../spaces/events.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';
import {
  addToCommunity,
  caller,
  createGroup,
  freshUser,
  outcome,
  recordEvents,
  seedCommunity,
  type TestCommunity,
} from './test-helpers.js';

describe.each(DIALECTS)('group members and group invites on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;
  let c: TestCommunity;
  let outsider: TestUser;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    call = caller(t);
    c = await seedCommunity(t, 'm');
    outsider = await freshUser(t, 'outs');
  });
  afterAll(() => t.close());

  const invite = async (as: TestUser, groupId: string, body: Record<string, unknown> = {}) => {
    const res = await call(as, 'POST', `/api/groups/${groupId}/invites`, body);
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { code: string }).code;
  };
  const memberIds = async (as: TestUser, groupId: string) =>
    ((await call(as, 'GET', `/api/groups/${groupId}/members`)).json().members as { user_id: string }[]).map(
      (m) => m.user_id,
    );

  it('lets community members into a private group by invite, and nobody else', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Inner circle', visibility: 'private' });
    expect(outcome(await call(c.alice, 'POST', `/api/groups/${g.id}/invites`, {}))).toEqual([404, 'not_found']);
    const code = await invite(c.owner, g.id);
    expect(code).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(outcome(await call(outsider, 'POST', `/api/group-invites/${code}/join`))).toEqual([404, 'not_found']);
    const events = await recordEvents(t, topics.group(g.id));
    const res = await call(c.alice, 'POST', `/api/group-invites/${code}/join`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ joined: true, group: { id: g.id, joined: true, my_role: 'member' } });
    expect((await call(c.alice, 'POST', `/api/group-invites/${code}/join`)).json()).toMatchObject({ joined: false });
    expect(await memberIds(c.alice, g.id)).toEqual(expect.arrayContaining([c.owner.id, c.alice.id]));
    expect(outcome(await call(c.bob, 'GET', `/api/groups/${g.id}/members`))).toEqual([404, 'not_found']);
    expect(outcome(await call(c.alice, 'POST', `/api/group-invites/NOSUCHCODE12/join`))).toEqual([404, 'not_found']);
    await events.stop();
    expect(events.seen.map((s) => s.event)).toEqual([
      expect.objectContaining({ type: 'member.joined', group_id: g.id, user_id: c.alice.id }),
    ]);
  });

  it('honours max uses, expiry and revocation, and counts a use once under 20 parallel joins', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Limited', visibility: 'private' });
    const crowd: TestUser[] = [];
    for (let i = 0; i < 20; i++) {
      const u = await freshUser(t, 'crowd');
      await addToCommunity(t, c.id, u);
      crowd.push(u);
    }
    const one = await invite(c.owner, g.id, { max_uses: 1 });
    const results = await Promise.all(crowd.map((u) => call(u, 'POST', `/api/group-invites/${one}/join`)));
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 404)).toHaveLength(19);
    const outside = crowd.filter((_, i) => results[i]!.statusCode === 404);
    expect(await memberIds(c.owner, g.id)).toHaveLength(2);
    const listed = (await call(c.owner, 'GET', `/api/groups/${g.id}/invites`)).json().invites as {
      code: string;
      uses: number;
    }[];
    expect(listed.find((i) => i.code === one)?.uses).toBe(1);

    const expiring = await invite(c.owner, g.id, { expires_in_hours: 1 });
    await t.db.database.db
      .updateTable('group_invites')
      .set({ expires_at: Date.now() - 1 })
      .where('code', '=', expiring)
      .execute();
    expect(outcome(await call(outside[0]!, 'POST', `/api/group-invites/${expiring}/join`))).toEqual([404, 'not_found']);

    const revoked = await invite(c.moderator, g.id);
    expect(outcome(await call(c.alice, 'DELETE', `/api/groups/${g.id}/invites/${revoked}`))).toEqual([
      404,
      'not_found',
    ]);
    expect((await call(c.moderator, 'DELETE', `/api/groups/${g.id}/invites/${revoked}`)).statusCode).toBe(204);
    expect(outcome(await call(outside[1]!, 'POST', `/api/group-invites/${revoked}/join`))).toEqual([404, 'not_found']);
    expect(await memberIds(c.owner, g.id)).toHaveLength(2);
    for (const body of [{ max_uses: 0 }, { expires_in_hours: 0 }, { expires_in_hours: 8761 }]) {
      expect(outcome(await call(c.owner, 'POST', `/api/groups/${g.id}/invites`, body))).toEqual([
        400,
        'validation_error',
      ]);
    }
  });

  it('refuses users banned from the community, whatever invite they hold', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Barred', visibility: 'private' });
    const code = await invite(c.owner, g.id);
    const troll = await freshUser(t, 'troll');
    await addToCommunity(t, c.id, troll);
    await t.db.database.db
      .insertInto('community_bans')
      .values({ community_id: c.id, user_id: troll.id, reason: 'x', banned_by: c.owner.id, created_at: Date.now() })
      .execute();
    expect(outcome(await call(troll, 'POST', `/api/group-invites/${code}/join`))).toEqual([404, 'not_found']);
  });

  it('lets group admins manage members below them, never above', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Team', visibility: 'public' });
    const url = (u: TestUser) => `/api/groups/${g.id}/members/${u.id}`;
    // Alice becomes a group admin (by the owner), then manages Bob but not the moderator.
    const promoted = await call(c.owner, 'PATCH', url(c.alice), { role: 'admin' });
    expect(promoted.statusCode, promoted.body).toBe(200);
    expect(promoted.json()).toMatchObject({ user_id: c.alice.id, role: 'admin' });
    expect(outcome(await call(c.bob, 'PATCH', url(c.carol), { role: 'admin' }))).toEqual([403, 'forbidden']);
    expect(outcome(await call(c.alice, 'PATCH', url(c.moderator), { role: 'admin' }))).toEqual([403, 'forbidden']);
    expect(outcome(await call(c.alice, 'DELETE', url(c.owner)))).toEqual([403, 'forbidden']);
    expect(outcome(await call(c.alice, 'DELETE', url(c.alice)))).toEqual([403, 'forbidden']);
    const events = await recordEvents(t, topics.group(g.id), topics.user(c.bob.id));
    expect((await call(c.alice, 'DELETE', url(c.bob))).statusCode).toBe(204);
    expect(outcome(await call(c.alice, 'DELETE', url(c.bob)))).toEqual([404, 'not_found']);
    // A plain group admin cannot demote another; a community moderator can.
    await call(c.owner, 'PATCH', url(c.carol), { role: 'admin' });
    expect(outcome(await call(c.alice, 'PATCH', url(c.carol), { role: 'member' }))).toEqual([403, 'forbidden']);
    expect((await call(c.moderator, 'PATCH', url(c.carol), { role: 'member' })).json()).toMatchObject({
      role: 'member',
    });
    await events.stop();
    expect(events.types(topics.group(g.id))).toEqual(['member.kicked', 'member.role_updated', 'member.role_updated']);
    expect(events.types(topics.user(c.bob.id))).toEqual(['member.kicked']);
    const audit = await t.db.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'member_kicked')
      .execute();
    expect(audit.map((a) => a.target_id)).toContain(c.bob.id);
  });
});

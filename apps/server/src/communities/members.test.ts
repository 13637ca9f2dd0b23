import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../spaces/events.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { createUser, type TestUser } from '../test-support/users.js';
import { caller, communityWith, createInvite, freshUser, join, recordEvents } from './test-helpers.js';

describe.each(DIALECTS)('community members on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;
  let owner: TestUser;
  let instanceAdmin: TestUser;
  let a: Awaited<ReturnType<typeof communityWith>>;
  let b: Awaited<ReturnType<typeof communityWith>>;
  const db = () => t.db.database.db;
  const u = (name: string) => a.users[name]!;
  const member = (communityId: string, userId: string) => `/api/communities/${communityId}/members/${userId}`;
  const roleOf = async (communityId: string, userId: string) =>
    (
      await db()
        .selectFrom('community_members')
        .select('role')
        .where('community_id', '=', communityId)
        .where('user_id', '=', userId)
        .executeTakeFirst()
    )?.role ?? null;

  beforeAll(async () => {
    t = await createTestApp(dialect, { env: { COMMUNITY_CREATION_MODE: 'open' } });
    call = caller(t);
    owner = await freshUser(t, 'owner');
    instanceAdmin = await createUser(t, `iadmin_${dialect}`, { instanceRole: 'admin' });
    a = await communityWith(t, owner, {
      admin: 'admin',
      admin2: 'admin',
      mod: 'moderator',
      mod2: 'moderator',
      member: 'member',
      member2: 'member',
    });
    b = await communityWith(t, await freshUser(t, 'ownerb'), { memberB: 'member' });
  });
  afterAll(() => t.close());

  it('lists members with their profile, role and nickname, page by page', async () => {
    const res = await call(u('member'), 'GET', `/api/communities/${a.id}/members`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.members).toHaveLength(7);
    expect(body.next_cursor).toBeNull();
    expect(body.members.find((m: { user_id: string }) => m.user_id === u('mod').id)).toEqual({
      user_id: u('mod').id,
      username: u('mod').username,
      display_name: u('mod').username,
      avatar_url: null,
      role: 'moderator',
      nickname: null,
      joined_at: expect.any(Number),
      presence: 'offline',
    });
    const first = (await call(u('member'), 'GET', `/api/communities/${a.id}/members?limit=4`)).json();
    expect(first.members).toHaveLength(4);
    const second = (
      await call(u('member'), 'GET', `/api/communities/${a.id}/members?limit=4&after=${first.next_cursor}`)
    ).json();
    expect(second.members).toHaveLength(3);
    expect(second.next_cursor).toBeNull();
    const ids = [...first.members, ...second.members].map((m: { user_id: string }) => m.user_id);
    expect(new Set(ids).size).toBe(7);
  });

  it('never shows another community’s members, invites or bans (IDOR)', async () => {
    for (const path of ['members', 'invites', 'bans']) {
      const res = await call(u('admin'), 'GET', `/api/communities/${b.id}/${path}`);
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain(b.users.memberB!.id);
    }
    const bMember = b.users.memberB!.id;
    expect((await call(u('admin'), 'PATCH', member(b.id, bMember), { nickname: 'x' })).statusCode).toBe(404);
    expect((await call(u('admin'), 'DELETE', member(b.id, bMember))).statusCode).toBe(404);
    // B's member through A's path: not a member of A.
    expect((await call(u('admin'), 'DELETE', member(a.id, bMember))).statusCode).toBe(404);
    expect((await call(u('admin'), 'PATCH', member(a.id, bMember), { role: 'moderator' })).statusCode).toBe(404);
    expect(await roleOf(b.id, bMember)).toBe('member');
    expect((await call(null, 'GET', `/api/communities/${a.id}/members`)).statusCode).toBe(401);
  });

  it('changes roles only to roles below the caller’s, on members below the caller', async () => {
    // A moderator cannot change roles at all; an admin cannot make admins or touch admins.
    expect((await call(u('mod'), 'PATCH', member(a.id, u('member').id), { role: 'moderator' })).statusCode).toBe(403);
    expect((await call(u('admin'), 'PATCH', member(a.id, u('member').id), { role: 'admin' })).statusCode).toBe(403);
    expect((await call(u('admin'), 'PATCH', member(a.id, u('admin2').id), { role: 'member' })).statusCode).toBe(403);
    expect((await call(u('admin'), 'PATCH', member(a.id, owner.id), { role: 'member' })).statusCode).toBe(403);
    expect((await call(u('admin'), 'PATCH', member(a.id, u('admin').id), { role: 'moderator' })).statusCode).toBe(403);
    expect((await call(owner, 'PATCH', member(a.id, u('member').id), { role: 'owner' })).statusCode).toBe(400);
    expect(await roleOf(a.id, u('member').id)).toBe('member');

    const events = await recordEvents(t, topics.community(a.id), topics.user(u('member2').id));
    const res = await call(u('admin'), 'PATCH', member(a.id, u('member2').id), { role: 'moderator' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ user_id: u('member2').id, role: 'moderator' });
    expect(events.types(topics.user(u('member2').id))).toEqual(['member.role_updated']);
    await events.stop();
    expect((await call(u('admin'), 'PATCH', member(a.id, u('member2').id), { role: 'member' })).statusCode).toBe(200);
    // Instance admins act as admins: below admin only, and never on the owner.
    expect((await call(instanceAdmin, 'PATCH', member(a.id, u('member2').id), { role: 'admin' })).statusCode).toBe(403);
    expect((await call(instanceAdmin, 'PATCH', member(a.id, owner.id), { role: 'member' })).statusCode).toBe(403);
    expect((await call(instanceAdmin, 'PATCH', member(a.id, u('member2').id), { role: 'moderator' })).statusCode).toBe(
      200,
    );
    expect((await call(instanceAdmin, 'PATCH', member(a.id, u('member2').id), { role: 'member' })).statusCode).toBe(
      200,
    );
    const audit = await db()
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'member_role_changed')
      .where('target_id', '=', u('member2').id)
      .orderBy('created_at')
      .execute();
    expect(audit).toHaveLength(4);
    expect(audit.map((r) => JSON.parse(r.details) as unknown)).toContainEqual({
      community_id: a.id,
      from: 'member',
      to: 'moderator',
    });
  });

  it('sets nicknames: one’s own as any member, others’ as a moderator above them', async () => {
    const own = await call(u('member'), 'PATCH', member(a.id, u('member').id), { nickname: '  Nick  ' });
    expect(own.statusCode).toBe(200);
    expect(own.json().nickname).toBe('Nick');
    expect((await call(u('member'), 'PATCH', member(a.id, u('member2').id), { nickname: 'x' })).statusCode).toBe(403);
    expect((await call(u('mod'), 'PATCH', member(a.id, u('mod2').id), { nickname: 'x' })).statusCode).toBe(403);
    expect(
      (await call(u('mod'), 'PATCH', member(a.id, u('member').id), { nickname: null })).json().nickname,
    ).toBeNull();
    expect(
      (await call(u('member'), 'PATCH', member(a.id, u('member').id), { nickname: 'n'.repeat(65) })).statusCode,
    ).toBe(400);
    expect((await call(u('member'), 'PATCH', member(a.id, u('member').id), {})).statusCode).toBe(400);
    expect((await call(instanceAdmin, 'PATCH', member(a.id, instanceAdmin.id), { nickname: 'staff' })).statusCode).toBe(
      404,
    );
  });

  it('kicks only members of a lower role, out of the community and all its groups', async () => {
    // A moderator cannot kick an admin or another moderator; nobody kicks the owner.
    expect((await call(u('mod'), 'DELETE', member(a.id, u('admin').id))).statusCode).toBe(403);
    expect((await call(u('mod'), 'DELETE', member(a.id, u('mod2').id))).statusCode).toBe(403);
    expect((await call(u('member'), 'DELETE', member(a.id, u('member2').id))).statusCode).toBe(403);
    expect((await call(u('admin'), 'DELETE', member(a.id, owner.id))).statusCode).toBe(403);
    expect((await call(instanceAdmin, 'DELETE', member(a.id, owner.id))).statusCode).toBe(403);
    expect(await roleOf(a.id, u('admin').id)).toBe('admin');

    const victim = await freshUser(t, 'kicked');
    const groupId = randomUUID();
    const now = Date.now();
    await db()
      .insertInto('groups')
      .values({
        id: groupId,
        community_id: a.id,
        name: 'g',
        icon_asset: null,
        banner_asset: null,
        accent_color: null,
        personal_owner_id: null,
        created_by: owner.id,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await join(t, victim, await createInvite(t, owner, a.id));
    const events = await recordEvents(t, topics.community(a.id), topics.user(victim.id), topics.group(groupId));
    expect((await call(u('mod'), 'DELETE', member(a.id, victim.id))).statusCode).toBe(204);
    expect(await roleOf(a.id, victim.id)).toBeNull();
    expect(
      await db().selectFrom('group_members').select('group_id').where('user_id', '=', victim.id).execute(),
    ).toEqual([]);
    expect(events.types(topics.user(victim.id))).toEqual(['member.kicked']);
    expect(events.types(topics.group(groupId))).toEqual(['member.kicked']);
    await events.stop();
    expect((await call(victim, 'GET', `/api/communities/${a.id}`)).statusCode).toBe(404);
    expect((await call(u('mod'), 'DELETE', member(a.id, victim.id))).statusCode).toBe(404);
    // A kick is not a ban: they may come back.
    await join(t, victim, await createInvite(t, owner, a.id));
    expect((await call(instanceAdmin, 'DELETE', member(a.id, victim.id))).statusCode).toBe(204);
    const audit = await db().selectFrom('audit_log').select('actor_id').where('action', '=', 'member_kicked').execute();
    expect(audit.map((r) => r.actor_id)).toEqual([u('mod').id, instanceAdmin.id]);
  });

  it('lets members leave, but not the owner', async () => {
    const leaver = await freshUser(t, 'leaver');
    await join(t, leaver, await createInvite(t, owner, a.id));
    expect((await call(leaver, 'POST', `/api/communities/${a.id}/leave`)).statusCode).toBe(204);
    expect((await call(leaver, 'POST', `/api/communities/${a.id}/leave`)).statusCode).toBe(404);
    const res = await call(owner, 'POST', `/api/communities/${a.id}/leave`);
    expect(res.statusCode).toBe(409);
    expect(await roleOf(a.id, owner.id)).toBe('owner');
    expect((await call(instanceAdmin, 'POST', `/api/communities/${a.id}/leave`)).statusCode).toBe(404);
  });

  it('bans members and non-members below the caller, lists and lifts bans', async () => {
    const victim = await freshUser(t, 'victim');
    await join(t, victim, await createInvite(t, owner, a.id));
    const stranger = await freshUser(t, 'stranger');
    expect((await call(u('mod'), 'POST', `/api/communities/${a.id}/bans`, { user_id: u('mod2').id })).statusCode).toBe(
      403,
    );
    expect((await call(u('member'), 'POST', `/api/communities/${a.id}/bans`, { user_id: victim.id })).statusCode).toBe(
      403,
    );
    expect((await call(instanceAdmin, 'POST', `/api/communities/${a.id}/bans`, { user_id: owner.id })).statusCode).toBe(
      403,
    );
    expect(
      (await call(u('mod'), 'POST', `/api/communities/${a.id}/bans`, { user_id: victim.id, reason: 'r'.repeat(501) }))
        .statusCode,
    ).toBe(400);
    expect((await call(u('mod'), 'POST', `/api/communities/${a.id}/bans`, { user_id: randomUUID() })).statusCode).toBe(
      404,
    );

    const events = await recordEvents(t, topics.user(victim.id));
    const res = await call(u('mod'), 'POST', `/api/communities/${a.id}/bans`, { user_id: victim.id, reason: 'spam' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ user_id: victim.id, reason: 'spam', banned_by: u('mod').id });
    expect(events.types(topics.user(victim.id))).toEqual(['member.banned']);
    await events.stop();
    expect(await roleOf(a.id, victim.id)).toBeNull();
    expect((await call(u('mod'), 'POST', `/api/communities/${a.id}/bans`, { user_id: victim.id })).statusCode).toBe(
      409,
    );
    // Pre-emptive ban of someone who never joined.
    expect((await call(u('admin'), 'POST', `/api/communities/${a.id}/bans`, { user_id: stranger.id })).statusCode).toBe(
      201,
    );
    const code = await createInvite(t, owner, a.id);
    expect((await call(stranger, 'POST', `/api/invites/${code}/join`)).json().error.code).toBe('banned');

    expect((await call(u('member'), 'GET', `/api/communities/${a.id}/bans`)).statusCode).toBe(403);
    const list = (await call(u('mod'), 'GET', `/api/communities/${a.id}/bans`)).json().bans as { user_id: string }[];
    expect(list.map((x) => x.user_id).sort()).toEqual([victim.id, stranger.id].sort());

    expect((await call(u('member'), 'DELETE', `/api/communities/${a.id}/bans/${victim.id}`)).statusCode).toBe(403);
    expect((await call(u('mod'), 'DELETE', `/api/communities/${a.id}/bans/${victim.id}`)).statusCode).toBe(204);
    expect((await call(u('mod'), 'DELETE', `/api/communities/${a.id}/bans/${victim.id}`)).statusCode).toBe(404);
    await join(t, victim, code);
    const actions = await db().selectFrom('audit_log').select('action').where('target_id', '=', victim.id).execute();
    expect(actions.map((r) => r.action).sort()).toEqual(['member_banned', 'member_unbanned']);
  });
});

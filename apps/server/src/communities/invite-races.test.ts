import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';
import { caller, communityWith, createInvite, freshUser, join } from './test-helpers.js';

const HOUR_MS = 3_600_000;

describe.each(DIALECTS)('community invite limits under load on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;
  let owner: TestUser;
  let a: Awaited<ReturnType<typeof communityWith>>;
  const db = () => t.db.database.db;
  const memberCount = async () => (await call(owner, 'GET', `/api/communities/${a.id}`)).json().member_count as number;
  const uses = async (code: string) =>
    (await db().selectFrom('community_invites').select('uses').where('code', '=', code).executeTakeFirstOrThrow()).uses;
  const crowd = (n: number, prefix: string) => Promise.all(Array.from({ length: n }, () => freshUser(t, prefix)));

  beforeAll(async () => {
    t = await createTestApp(dialect, { env: { COMMUNITY_CREATION_MODE: 'open' } });
    call = caller(t);
    owner = await freshUser(t, 'owner');
    a = await communityWith(t, owner, { mod: 'moderator', member: 'member' });
  });
  afterAll(() => t.close());

  it('accepts the exact limits of uses and lifetime, and nothing past them', async () => {
    const url = `/api/communities/${a.id}/invites`;
    for (const [body, maxUses, lifetime] of [
      [{ max_uses: 1 }, 1, null],
      [{ max_uses: 10_000 }, 10_000, null],
      [{ expires_in_hours: 1 }, null, HOUR_MS],
      [{ expires_in_hours: 8760 }, null, 8760 * HOUR_MS],
      [{}, null, null],
    ] as const) {
      const res = await call(a.users.member!, 'POST', url, body);
      expect(res.statusCode, res.body).toBe(201);
      const invite = res.json() as { max_uses: number | null; expires_at: number | null; created_at: number };
      expect(invite.max_uses).toBe(maxUses);
      expect(invite.expires_at === null ? null : invite.expires_at - invite.created_at).toBe(lifetime);
    }
    for (const body of [
      { max_uses: 0 },
      { max_uses: 10_001 },
      { max_uses: -1 },
      { max_uses: 1.5 },
      { max_uses: '5' },
      { expires_in_hours: 0 },
      { expires_in_hours: 8761 },
      { expires_in_hours: 1.5 },
      { expires_in_hours: null },
    ]) {
      const res = await call(owner, 'POST', url, body);
      expect([res.statusCode, res.json().error.code], JSON.stringify(body)).toEqual([400, 'validation_error']);
    }
  });

  it('lets exactly three of 20 parallel clients use a three-use invite, then hides it', async () => {
    const code = await createInvite(t, owner, a.id, { max_uses: 3 });
    const users = await crowd(20, 'three');
    const before = await memberCount();
    const results = await Promise.all(users.map((u) => call(u, 'POST', `/api/invites/${code}/join`)));
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(3);
    expect(results.filter((r) => r.statusCode === 404).map((r) => r.json().error.code)).toEqual(
      Array(17).fill('not_found'),
    );
    expect(await memberCount()).toBe(before + 3);
    expect(await uses(code)).toBe(3);
    const listed = (await call(a.users.mod!, 'GET', `/api/communities/${a.id}/invites`)).json().invites as {
      code: string;
      uses: number;
    }[];
    expect(listed.find((i) => i.code === code)?.uses).toBe(3);
    // Used up: no preview, no join, for the ones who lost the race either.
    expect((await call(null, 'GET', `/api/invites/${code}`)).statusCode).toBe(404);
    const loser = users[results.findIndex((r) => r.statusCode === 404)]!;
    expect((await call(loser, 'POST', `/api/invites/${code}/join`)).statusCode).toBe(404);
  });

  it('counts every parallel join of an unlimited invite exactly once', async () => {
    const code = await createInvite(t, owner, a.id);
    const users = await crowd(15, 'unl');
    const before = await memberCount();
    // Each user twice, all at once.
    const results = await Promise.all([...users, ...users].map((u) => call(u, 'POST', `/api/invites/${code}/join`)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(30).fill(200));
    expect(results.filter((r) => r.json().joined === true)).toHaveLength(15);
    expect(await memberCount()).toBe(before + 15);
    expect(await uses(code)).toBe(15);
  });

  it('refuses an invite past its expiry with uses left, and keeps it working before', async () => {
    const code = await createInvite(t, owner, a.id, { max_uses: 10, expires_in_hours: 1 });
    await join(t, await freshUser(t, 'early'), code);
    await db()
      .updateTable('community_invites')
      .set({ expires_at: Date.now() - 1000 })
      .where('code', '=', code)
      .execute();
    const users = await crowd(5, 'late');
    const results = await Promise.all(users.map((u) => call(u, 'POST', `/api/invites/${code}/join`)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(5).fill(404));
    expect(await uses(code)).toBe(1);
    expect((await call(null, 'GET', `/api/invites/${code}`)).statusCode).toBe(404);
  });

  it('keeps a banned user out by every invite, old or new, community or group, until unbanned', async () => {
    const user = await freshUser(t, 'bannable');
    // Invites made before the ban, by different people, with uses to spare.
    const oldCodes = [
      await createInvite(t, owner, a.id),
      await createInvite(t, a.users.member!, a.id, { max_uses: 50 }),
    ];
    await join(t, user, oldCodes[0]!);
    const pub = await call(owner, 'POST', `/api/communities/${a.id}/groups`, { name: 'Open', visibility: 'public' });
    expect(pub.statusCode, pub.body).toBe(201);
    const priv = await call(owner, 'POST', `/api/communities/${a.id}/groups`, {
      name: 'Closed',
      visibility: 'private',
    });
    const privId = (priv.json() as { id: string }).id;
    const groupCode = ((await call(owner, 'POST', `/api/groups/${privId}/invites`, {})).json() as { code: string })
      .code;

    const ban = await call(a.users.mod!, 'POST', `/api/communities/${a.id}/bans`, { user_id: user.id });
    expect(ban.statusCode, ban.body).toBe(201);
    const newCode = await createInvite(t, a.users.mod!, a.id, { max_uses: 1 });
    const usesBefore = await Promise.all([...oldCodes, newCode].map(uses));
    // Several attempts at once change nothing either.
    const attempts = await Promise.all(
      [...oldCodes, newCode, newCode, newCode].map((code) => call(user, 'POST', `/api/invites/${code}/join`)),
    );
    for (const res of attempts) expect([res.statusCode, res.json().error.code]).toEqual([403, 'banned']);
    expect(await Promise.all([...oldCodes, newCode].map(uses))).toEqual(usesBefore);
    const groupJoin = await call(user, 'POST', `/api/group-invites/${groupCode}/join`);
    expect(groupJoin.statusCode).toBe(404);
    expect((await call(user, 'POST', `/api/groups/${(pub.json() as { id: string }).id}/join`)).statusCode).toBe(404);
    expect((await call(user, 'GET', `/api/communities/${a.id}`)).statusCode).toBe(404);
    // The single-use invite is still there for someone else.
    await join(t, await freshUser(t, 'other'), newCode);

    // Unbanned: an old invite works again and the public groups take them back.
    expect((await call(a.users.mod!, 'DELETE', `/api/communities/${a.id}/bans/${user.id}`)).statusCode).toBe(204);
    const back = await call(user, 'POST', `/api/invites/${oldCodes[1]}/join`);
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json()).toMatchObject({ joined: true, community: { my_role: 'member' } });
    const groups = (await call(user, 'GET', `/api/communities/${a.id}/groups`)).json().groups as {
      id: string;
      joined: boolean;
    }[];
    expect(groups.find((g) => g.id === (pub.json() as { id: string }).id)?.joined).toBe(true);
    expect((await call(user, 'POST', `/api/group-invites/${groupCode}/join`)).json()).toMatchObject({ joined: true });
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../spaces/events.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { createUser, type TestUser } from '../test-support/users.js';
import { caller, communityWith, createCommunity, createInvite, freshUser, join, recordEvents } from './test-helpers.js';

describe.each(DIALECTS)('community invites on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;
  let owner: TestUser;
  let ownerB: TestUser;
  let a: Awaited<ReturnType<typeof communityWith>>;
  let b: string;
  const db = () => t.db.database.db;

  beforeAll(async () => {
    t = await createTestApp(dialect, { env: { COMMUNITY_CREATION_MODE: 'open' } });
    call = caller(t);
    owner = await freshUser(t, 'owner');
    ownerB = await freshUser(t, 'ownerb');
    a = await communityWith(t, owner, { mod: 'moderator', member: 'member' });
    b = await createCommunity(t, ownerB, 'Community B');
  });
  afterAll(() => t.close());

  it('creates 12-character codes with limits, per who_can_create_invites', async () => {
    const res = await call(a.users.member!, 'POST', `/api/communities/${a.id}/invites`, {
      max_uses: 5,
      expires_in_hours: 24,
    });
    expect(res.statusCode).toBe(201);
    const invite = res.json();
    expect(invite.code).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(invite).toMatchObject({ community_id: a.id, max_uses: 5, uses: 0, revoked: false });
    expect(invite.expires_at - invite.created_at).toBe(24 * 3_600_000);
    for (const body of [{ expires_in_hours: 0 }, { expires_in_hours: 8761 }, { max_uses: 0 }]) {
      expect((await call(owner, 'POST', `/api/communities/${a.id}/invites`, body)).statusCode).toBe(400);
    }
    await call(owner, 'PATCH', `/api/communities/${a.id}`, { who_can_create_invites: 'moderator' });
    expect((await call(a.users.member!, 'POST', `/api/communities/${a.id}/invites`, {})).statusCode).toBe(403);
    expect((await call(a.users.mod!, 'POST', `/api/communities/${a.id}/invites`, {})).statusCode).toBe(201);
    await call(owner, 'PATCH', `/api/communities/${a.id}`, { who_can_create_invites: 'everyone' });
    // Another community's members cannot create invites here.
    expect((await call(ownerB, 'POST', `/api/communities/${a.id}/invites`, {})).statusCode).toBe(404);
  });

  it('lists and revokes invites for moderators, only within their own community', async () => {
    const code = await createInvite(t, a.users.member!, a.id);
    const codeB = await createInvite(t, ownerB, b);
    expect((await call(a.users.member!, 'GET', `/api/communities/${a.id}/invites`)).statusCode).toBe(403);
    const list = await call(a.users.mod!, 'GET', `/api/communities/${a.id}/invites`);
    expect(list.statusCode).toBe(200);
    const codes = (list.json().invites as { code: string }[]).map((i) => i.code);
    expect(codes).toContain(code);
    expect(codes).not.toContain(codeB);
    // IDOR: B's code through A's path, and B's invites for a member of A.
    expect((await call(owner, 'DELETE', `/api/communities/${a.id}/invites/${codeB}`)).statusCode).toBe(404);
    expect((await call(owner, 'GET', `/api/communities/${b}/invites`)).statusCode).toBe(404);
    expect((await call(owner, 'DELETE', `/api/communities/${b}/invites/${codeB}`)).statusCode).toBe(404);
    expect((await call(null, 'GET', `/api/invites/${codeB}`)).statusCode).toBe(200);

    expect((await call(a.users.member!, 'DELETE', `/api/communities/${a.id}/invites/${code}`)).statusCode).toBe(403);
    expect((await call(a.users.mod!, 'DELETE', `/api/communities/${a.id}/invites/${code}`)).statusCode).toBe(204);
    expect((await call(a.users.mod!, 'DELETE', `/api/communities/${a.id}/invites/${code}`)).statusCode).toBe(404);
    const revoked = (await call(owner, 'GET', `/api/communities/${a.id}/invites`))
      .json()
      .invites.find((i: { code: string }) => i.code === code);
    expect(revoked.revoked).toBe(true);
    expect((await call(null, 'GET', `/api/invites/${code}`)).statusCode).toBe(404);
    expect((await call(await freshUser(t), 'POST', `/api/invites/${code}/join`)).statusCode).toBe(404);
  });

  it('previews an invite without signing in, and hides unusable ones', async () => {
    await call(owner, 'PATCH', `/api/communities/${a.id}`, { description: 'A place' });
    const code = await createInvite(t, owner, a.id);
    const res = await call(null, 'GET', `/api/invites/${code}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      code,
      community: { name: 'Test community', description: 'A place', icon_url: null, member_count: 3 },
    });
    expect((await call(null, 'GET', '/api/invites/UNKNOWNCODE1')).statusCode).toBe(404);
    const expired = await createInvite(t, owner, a.id, { expires_in_hours: 1 });
    await db()
      .updateTable('community_invites')
      .set({ expires_at: Date.now() - 1 })
      .where('code', '=', expired)
      .execute();
    expect((await call(null, 'GET', `/api/invites/${expired}`)).statusCode).toBe(404);
    expect((await call(await freshUser(t), 'POST', `/api/invites/${expired}/join`)).statusCode).toBe(404);
  });

  it('joins by invite, counts the use, and is idempotent for members', async () => {
    const code = await createInvite(t, owner, a.id, { max_uses: 2 });
    const user = await freshUser(t, 'joiner');
    const events = await recordEvents(t, topics.community(a.id), topics.user(user.id));
    expect((await call(null, 'POST', `/api/invites/${code}/join`)).statusCode).toBe(401);
    const res = await call(user, 'POST', `/api/invites/${code}/join`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ joined: true, community: { id: a.id, my_role: 'member' } });
    const again = await call(user, 'POST', `/api/invites/${code}/join`);
    expect(again.statusCode).toBe(200);
    expect(again.json().joined).toBe(false);
    const row = await db()
      .selectFrom('community_invites')
      .select('uses')
      .where('code', '=', code)
      .executeTakeFirstOrThrow();
    expect(row.uses).toBe(1);
    expect(events.types(topics.community(a.id))).toEqual(['member.joined']);
    expect(events.types(topics.user(user.id))).toEqual(['member.joined']);
    await events.stop();
    // One use left: the next user takes it, the one after is refused.
    await join(t, await freshUser(t), code);
    expect((await call(await freshUser(t), 'POST', `/api/invites/${code}/join`)).statusCode).toBe(404);
  });

  it('auto-joins every public group of the community, and no private one', async () => {
    const now = Date.now();
    const group = (visibility: 'public' | 'private', communityId = a.id) => ({
      id: randomUUID(),
      community_id: communityId,
      name: visibility,
      visibility,
      icon_asset: null,
      banner_asset: null,
      accent_color: null,
      personal_owner_id: null,
      created_by: owner.id,
      created_at: now,
      updated_at: now,
    });
    const pub1 = group('public');
    const pub2 = group('public');
    const priv = group('private');
    const otherPub = group('public', b);
    await db().insertInto('groups').values([pub1, pub2, priv, otherPub]).execute();
    const user = await freshUser(t, 'auto');
    const events = await recordEvents(t, topics.group(pub1.id));
    await join(t, user, await createInvite(t, owner, a.id));
    const rows = await db()
      .selectFrom('group_members')
      .select(['group_id', 'role'])
      .where('user_id', '=', user.id)
      .execute();
    // The community's own General group is public too.
    const general = await db()
      .selectFrom('groups')
      .select('id')
      .where('community_id', '=', a.id)
      .where('name', '=', 'General')
      .execute();
    expect(rows.map((r) => r.group_id).sort()).toEqual([pub1.id, pub2.id, ...general.map((g) => g.id)].sort());
    expect(rows.every((r) => r.role === 'member')).toBe(true);
    expect(events.types(topics.group(pub1.id))).toEqual(['member.joined']);
    await events.stop();
  });

  it('refuses banned users by every invite, with a stable code', async () => {
    const user = await freshUser(t, 'banned');
    await join(t, user, await createInvite(t, owner, a.id));
    expect((await call(a.users.mod!, 'POST', `/api/communities/${a.id}/bans`, { user_id: user.id })).statusCode).toBe(
      201,
    );
    for (const code of [await createInvite(t, owner, a.id), await createInvite(t, a.users.member!, a.id)]) {
      const res = await call(user, 'POST', `/api/invites/${code}/join`);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('banned');
      const row = await db()
        .selectFrom('community_invites')
        .select('uses')
        .where('code', '=', code)
        .executeTakeFirstOrThrow();
      expect(row.uses).toBe(0);
    }
    expect((await call(user, 'GET', `/api/communities/${a.id}`)).statusCode).toBe(404);
  });

  it('lets exactly one of 20 parallel clients use a single-use invite', async () => {
    const code = await createInvite(t, owner, a.id, { max_uses: 1 });
    const users = await Promise.all(Array.from({ length: 20 }, (_, i) => createUser(t, `race${i}_${dialect}`)));
    const before = (await call(owner, 'GET', `/api/communities/${a.id}`)).json().member_count as number;
    const results = await Promise.all(users.map((u) => call(u, 'POST', `/api/invites/${code}/join`)));
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 404)).toHaveLength(19);
    expect((await call(owner, 'GET', `/api/communities/${a.id}`)).json().member_count).toBe(before + 1);
    const row = await db()
      .selectFrom('community_invites')
      .select('uses')
      .where('code', '=', code)
      .executeTakeFirstOrThrow();
    expect(row.uses).toBe(1);
  });

  it('uses the invite once when the same user joins twice at the same time', async () => {
    const code = await createInvite(t, owner, a.id, { max_uses: 5 });
    const user = await freshUser(t, 'twice');
    const results = await Promise.all([1, 2, 3].map(() => call(user, 'POST', `/api/invites/${code}/join`)));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(results.filter((r) => r.json().joined === true)).toHaveLength(1);
    const row = await db()
      .selectFrom('community_invites')
      .select('uses')
      .where('code', '=', code)
      .executeTakeFirstOrThrow();
    expect(row.uses).toBe(1);
  });

  it('gives a newcomer the channels of every public group at once, and none of a private one', async () => {
    const createGroup = async (body: Record<string, unknown>) => {
      const res = await call(owner, 'POST', `/api/communities/${a.id}/groups`, body);
      expect(res.statusCode, res.body).toBe(201);
      return (res.json() as { id: string }).id;
    };
    const channelsOf = async (user: TestUser, groupId: string) => {
      const res = await call(user, 'GET', `/api/groups/${groupId}/channels`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().channels as { id: string; name: string }[];
    };
    const pub = await createGroup({ name: 'Town square', visibility: 'public' });
    const priv = await createGroup({ name: 'Back room', visibility: 'private' });
    expect(
      (await call(owner, 'POST', `/api/groups/${pub}/channels`, { name: 'Voice', kind: 'voice' })).statusCode,
    ).toBe(201);
    const hidden = await channelsOf(owner, priv);
    const user = await freshUser(t, 'newbie');
    await join(t, user, await createInvite(t, owner, a.id));
    const channels = await channelsOf(user, pub);
    expect(channels.map((ch) => ch.name)).toEqual(['general', 'Voice']);
    for (const ch of channels) {
      expect((await call(user, 'GET', `/api/channels/${ch.id}`)).statusCode).toBe(200);
      const members = (await call(user, 'GET', `/api/channels/${ch.id}/members`)).json().members as {
        user_id: string;
        role: string;
      }[];
      expect(members.find((m) => m.user_id === user.id)?.role).toBe('member');
    }
    expect((await call(user, 'GET', `/api/groups/${priv}/channels`)).statusCode).toBe(404);
    for (const ch of hidden) {
      expect((await call(user, 'GET', `/api/channels/${ch.id}`)).statusCode).toBe(404);
      expect((await call(user, 'GET', `/api/channels/${ch.id}/members`)).statusCode).toBe(404);
    }
  });
});

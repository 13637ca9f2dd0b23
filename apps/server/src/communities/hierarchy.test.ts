import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommunityRole } from '../db/schema.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';
import { caller, createCommunity, freshUser } from './test-helpers.js';

/** owner > admin > moderator > member (PRODUCT.md §3). */
const RANK: Record<CommunityRole, number> = { member: 1, moderator: 2, admin: 3, owner: 4 };
const ACTORS = ['owner', 'admin', 'moderator', 'member'] as const;
const TARGETS = ['admin', 'moderator', 'member'] as const;

const status = (res: { statusCode: number; body: string }) => {
  if (res.statusCode < 400) return [res.statusCode];
  return [res.statusCode, (JSON.parse(res.body) as { error: { code: string } }).error.code];
};

describe.each(DIALECTS)('community role hierarchy on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;
  let id: string;
  let actors: Record<(typeof ACTORS)[number], TestUser>;
  let instanceAdmin: TestUser;
  const db = () => t.db.database.db;

  /** A fresh member of the community with the given role, straight in the database. */
  const memberWith = async (role: CommunityRole, communityId = id) => {
    const user = await freshUser(t, role.slice(0, 3));
    await db()
      .insertInto('community_members')
      .values({ community_id: communityId, user_id: user.id, role, nickname: null, joined_at: Date.now() })
      .execute();
    return user;
  };
  const roleOf = async (userId: string, communityId = id) =>
    (
      await db()
        .selectFrom('community_members')
        .select('role')
        .where('community_id', '=', communityId)
        .where('user_id', '=', userId)
        .executeTakeFirst()
    )?.role ?? null;
  const owners = async (communityId: string) =>
    (
      await db()
        .selectFrom('community_members')
        .select('user_id')
        .where('community_id', '=', communityId)
        .where('role', '=', 'owner')
        .execute()
    ).map((r) => r.user_id);

  beforeAll(async () => {
    t = await createTestApp(dialect, { env: { COMMUNITY_CREATION_MODE: 'open' } });
    call = caller(t);
    const owner = await freshUser(t, 'owner');
    id = await createCommunity(t, owner, 'Ranks');
    actors = {
      owner,
      admin: await memberWith('admin'),
      moderator: await memberWith('moderator'),
      member: await memberWith('member'),
    };
    instanceAdmin = await freshUser(t, 'iadmin');
    await db().updateTable('users').set({ instance_role: 'admin' }).where('id', '=', instanceAdmin.id).execute();
  });
  afterAll(() => t.close());

  it('kicks only members of a strictly lower role, and only as a moderator or above', async () => {
    for (const actorRole of ACTORS) {
      for (const targetRole of TARGETS) {
        const target = await memberWith(targetRole);
        const res = await call(actors[actorRole], 'DELETE', `/api/communities/${id}/members/${target.id}`);
        const allowed = RANK[actorRole] >= RANK.moderator && RANK[actorRole] > RANK[targetRole];
        const what = `${actorRole} kicks ${targetRole}`;
        expect(status(res), what).toEqual(allowed ? [204] : [403, 'forbidden']);
        expect(await roleOf(target.id), what).toBe(allowed ? null : targetRole);
      }
    }
    for (const actor of [actors.owner, actors.admin, actors.moderator, actors.member, instanceAdmin]) {
      const res = await call(actor, 'DELETE', `/api/communities/${id}/members/${actors.owner.id}`);
      expect(status(res)).toEqual([403, 'forbidden']);
    }
    expect(await roleOf(actors.owner.id)).toBe('owner');
  });

  it('bans only users of a strictly lower role, and only as a moderator or above', async () => {
    for (const actorRole of ACTORS) {
      for (const targetRole of TARGETS) {
        const target = await memberWith(targetRole);
        const res = await call(actors[actorRole], 'POST', `/api/communities/${id}/bans`, { user_id: target.id });
        const allowed = RANK[actorRole] >= RANK.moderator && RANK[actorRole] > RANK[targetRole];
        const what = `${actorRole} bans ${targetRole}`;
        expect(status(res), what).toEqual(allowed ? [201] : [403, 'forbidden']);
        expect(await roleOf(target.id), what).toBe(allowed ? null : targetRole);
      }
    }
    for (const actor of [actors.owner, actors.admin, actors.moderator, instanceAdmin]) {
      const res = await call(actor, 'POST', `/api/communities/${id}/bans`, { user_id: actors.owner.id });
      expect(status(res)).toEqual([403, 'forbidden']);
    }
    const bans = await db().selectFrom('community_bans').select('user_id').where('community_id', '=', id).execute();
    expect(bans.map((b) => b.user_id)).not.toContain(actors.owner.id);
  });

  it('changes roles only on members strictly below the caller, to roles strictly below the caller', async () => {
    for (const actorRole of ACTORS) {
      for (const targetRole of TARGETS) {
        for (const newRole of TARGETS) {
          if (newRole === targetRole) continue;
          const target = await memberWith(targetRole);
          const res = await call(actors[actorRole], 'PATCH', `/api/communities/${id}/members/${target.id}`, {
            role: newRole,
          });
          const allowed =
            RANK[actorRole] >= RANK.admin && RANK[targetRole] < RANK[actorRole] && RANK[newRole] < RANK[actorRole];
          const what = `${actorRole} makes a ${targetRole} ${newRole}`;
          expect(status(res), what).toEqual(allowed ? [200] : [403, 'forbidden']);
          if (allowed) expect(res.json(), what).toMatchObject({ user_id: target.id, role: newRole });
          expect(await roleOf(target.id), what).toBe(allowed ? newRole : targetRole);
        }
      }
    }
    // Ownership changes hands only by a transfer.
    const target = await memberWith('admin');
    for (const actor of [actors.owner, instanceAdmin]) {
      const res = await call(actor, 'PATCH', `/api/communities/${id}/members/${target.id}`, { role: 'owner' });
      expect(status(res)).toEqual([400, 'validation_error']);
    }
    for (const actor of [actors.admin, instanceAdmin]) {
      const res = await call(actor, 'PATCH', `/api/communities/${id}/members/${actors.owner.id}`, { role: 'admin' });
      expect(status(res)).toEqual([403, 'forbidden']);
    }
    expect(await owners(id)).toEqual([actors.owner.id]);
  });

  it('hands ownership to exactly one member when two transfers race', async () => {
    for (let round = 0; round < 3; round++) {
      const owner = await freshUser(t, 'rowner');
      const communityId = await createCommunity(t, owner, `Race ${round}`);
      const first = await memberWith('moderator', communityId);
      const second = await memberWith('member', communityId);
      const results = await Promise.all(
        [first, second].map((u) => call(owner, 'POST', `/api/communities/${communityId}/transfer`, { user_id: u.id })),
      );
      const codes = results.map(status);
      expect(codes.filter((s) => s[0] === 200)).toHaveLength(1);
      // The loser is refused: either the owner check saw the new owner (403) or the
      // conditional update did (409).
      expect([
        [403, 'forbidden'],
        [409, 'conflict'],
      ]).toContainEqual(codes.find((s) => s[0] !== 200));
      const winner = [first, second][codes.findIndex((s) => s[0] === 200)]!;
      const loser = winner === first ? second : first;
      expect(await owners(communityId)).toEqual([winner.id]);
      const row = await db()
        .selectFrom('communities')
        .select('owner_id')
        .where('id', '=', communityId)
        .executeTakeFirstOrThrow();
      expect(row.owner_id).toBe(winner.id);
      expect(await roleOf(owner.id, communityId)).toBe('admin');
      expect(await roleOf(loser.id, communityId)).toBe(loser === first ? 'moderator' : 'member');
    }
  });

  it('puts the new owner above the old one at once after a transfer', async () => {
    const owner = await freshUser(t, 'towner');
    const communityId = await createCommunity(t, owner, 'Handover');
    const heir = await memberWith('member', communityId);
    const res = await call(owner, 'POST', `/api/communities/${communityId}/transfer`, { user_id: heir.id });
    expect(res.statusCode, res.body).toBe(200);
    // The old owner is an admin now: below the heir, and unable to touch them.
    expect(status(await call(owner, 'DELETE', `/api/communities/${communityId}/members/${heir.id}`))).toEqual([
      403,
      'forbidden',
    ]);
    expect(
      status(await call(owner, 'POST', `/api/communities/${communityId}/transfer`, { user_id: owner.id })),
    ).toEqual([403, 'forbidden']);
    expect(
      status(await call(heir, 'PATCH', `/api/communities/${communityId}/members/${owner.id}`, { role: 'moderator' })),
    ).toEqual([200]);
    expect(status(await call(heir, 'DELETE', `/api/communities/${communityId}/members/${owner.id}`))).toEqual([204]);
    expect(await roleOf(owner.id, communityId)).toBeNull();
    // A banned user is no member: nothing to hand over to them.
    const banned = await memberWith('member', communityId);
    expect(status(await call(heir, 'POST', `/api/communities/${communityId}/bans`, { user_id: banned.id }))).toEqual([
      201,
    ]);
    expect(
      status(await call(heir, 'POST', `/api/communities/${communityId}/transfer`, { user_id: banned.id })),
    ).toEqual([404, 'not_found']);
    expect(await owners(communityId)).toEqual([heir.id]);
  });
});

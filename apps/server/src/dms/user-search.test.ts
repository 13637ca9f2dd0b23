import { randomUUID } from 'node:crypto';
import type { UserCard } from '@chatalot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { createUser, type TestUser } from '../test-support/users.js';
import {
  addToCommunity,
  caller,
  cardOf,
  freshUser,
  outcome,
  seedCommunity,
  type TestCommunity,
} from './test-helpers.js';
import { likePrefix } from './user-search.js';

describe('likePrefix', () => {
  it('lowercases and escapes LIKE wildcards and the escape character', () => {
    expect(likePrefix('Ab')).toBe('ab%');
    expect(likePrefix('a%b_c\\d')).toBe('a\\%b\\_c\\\\d%');
  });
});

describe.each(DIALECTS)('user search and profiles on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;
  let c: TestCommunity;
  let other: TestCommunity;
  let instanceAdmin: TestUser;
  /** Named users; see beforeAll for who shares what. */
  const u: Record<string, TestUser> = {};
  const db = () => t.db.database.db;

  const search = async (as: TestUser, q: string, limit?: number) => {
    const qs = new URLSearchParams({ q, ...(limit !== undefined ? { limit: String(limit) } : {}) });
    const res = await call(as, 'GET', `/api/users/search?${qs}`);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { users: UserCard[] }).users;
  };
  const names = async (as: TestUser, q: string, limit?: number) => (await search(as, q, limit)).map((x) => x.username);
  const ban = async (communityOwner: TestUser, communityId: string, user: TestUser) => {
    const res = await call(communityOwner, 'POST', `/api/communities/${communityId}/bans`, { user_id: user.id });
    expect(res.statusCode, res.body).toBe(201);
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    call = caller(t);
    c = await seedCommunity(t, 's');
    other = await seedCommunity(t, 'o');
    instanceAdmin = await freshUser(t, 'iadm', { instanceRole: 'admin' });
    for (const name of [
      'ann',
      'zeta1',
      'zeta2',
      'zeta3',
      'zeta_susp',
      'zeta_other',
      'zetaduo',
      'zeta_out',
      'zeta_banned',
      'hook',
    ]) {
      u[name] = await createUser(t, name, name === 'zeta_susp' ? { suspended: true } : {});
    }
    // c: ann, zeta1-3, the suspended zeta_susp and hook. other: zeta_other and zetaduo.
    // zetaduo and zeta_banned were in c too, until banned from it; zeta_out is in nothing.
    for (const name of ['ann', 'zeta1', 'zeta2', 'zeta3', 'zeta_susp', 'hook', 'zetaduo', 'zeta_banned']) {
      await addToCommunity(t, c.id, u[name]!);
    }
    for (const name of ['zeta_other', 'zetaduo']) await addToCommunity(t, other.id, u[name]!);
    await ban(c.owner, c.id, u.zetaduo!);
    await ban(c.owner, c.id, u.zeta_banned!);
    await db().updateTable('users').set({ display_name: 'Captain Zebra' }).where('id', '=', u.hook!.id).execute();
  });
  afterAll(() => t.close());

  it('finds people sharing a community by username or display name prefix, case-insensitively', async () => {
    expect(await names(u.ann!, 'zeta')).toEqual(['zeta1', 'zeta2', 'zeta3']);
    expect(await names(u.ann!, 'ZeTa2')).toEqual(['zeta2']);
    expect(await names(u.ann!, '  zeta3  ')).toEqual(['zeta3']);
    expect(await search(u.ann!, 'capt')).toEqual([{ ...cardOf(u.hook!), display_name: 'Captain Zebra' }]);
    expect(await names(u.ann!, 'CAPTAIN z')).toEqual(['hook']);
    // A prefix of the whole name, not of any word in it.
    expect(await names(u.ann!, 'zebra')).toEqual([]);
    expect(await names(u.ann!, 'eta')).toEqual([]);
  });

  it('never returns outsiders, banned ex-members, suspended users or yourself', async () => {
    expect(await names(u.ann!, 'ann')).toEqual([]);
    expect(await names(u.ann!, 'zeta_')).toEqual([]);
    expect(await names(u.ann!, 'zetaduo')).toEqual([]);
    // A ban counts in its own community only: zetaduo still shares `other` with zeta_other.
    expect(await names(u.zeta_other!, 'zeta')).toEqual(['zetaduo']);
    expect(await names(u.zetaduo!, 'zeta')).toEqual(['zeta_other']);
    // Banned ex-members and people in no community find nobody.
    expect(await names(u.zeta_banned!, 'zeta')).toEqual([]);
    expect(await names(u.zeta_banned!, 'ann')).toEqual([]);
    expect(await names(u.zeta_out!, 'zeta')).toEqual([]);
    // Instance admins find everyone who is not suspended (sorted here: collations differ on '_').
    expect((await names(instanceAdmin, 'zeta')).sort()).toEqual([
      'zeta1',
      'zeta2',
      'zeta3',
      'zeta_banned',
      'zeta_other',
      'zeta_out',
      'zetaduo',
    ]);
    expect(outcome(await call(null, 'GET', '/api/users/search?q=zeta'))[0]).toBe(401);
    expect(outcome(await call(u.zeta_susp!, 'GET', '/api/users/search?q=zeta'))).toEqual([403, 'account_suspended']);
  });

  it('treats a banned user as no member even if a membership row lingers (a join racing the ban)', async () => {
    await addToCommunity(t, c.id, u.zeta_banned!);
    try {
      expect(await names(u.ann!, 'zeta')).toEqual(['zeta1', 'zeta2', 'zeta3']);
      expect(await names(u.zeta_banned!, 'zeta')).toEqual([]);
      expect(outcome(await call(u.ann!, 'GET', `/api/users/${u.zeta_banned!.id}`))).toEqual([404, 'not_found']);
      expect(outcome(await call(u.zeta_banned!, 'GET', `/api/users/${u.ann!.id}`))).toEqual([404, 'not_found']);
      expect(outcome(await call(u.ann!, 'POST', '/api/dms', { user_id: u.zeta_banned!.id }))).toEqual([
        404,
        'not_found',
      ]);
      expect(outcome(await call(u.zeta_banned!, 'POST', '/api/dms', { user_id: u.ann!.id }))).toEqual([
        404,
        'not_found',
      ]);
    } finally {
      await db()
        .deleteFrom('community_members')
        .where('community_id', '=', c.id)
        .where('user_id', '=', u.zeta_banned!.id)
        .execute();
    }
  });

  it('matches % and _ literally', async () => {
    expect((await names(instanceAdmin, 'zeta_')).sort()).toEqual(['zeta_banned', 'zeta_other', 'zeta_out']);
    expect(await names(instanceAdmin, '%')).toEqual([]);
    expect(await names(instanceAdmin, 'z%a')).toEqual([]);
    expect(await names(instanceAdmin, 'zet_')).toEqual([]);
    expect(await names(instanceAdmin, 'zeta\\')).toEqual([]);
  });

  it('returns 10 results by default and at most 20, in username order', async () => {
    const many: string[] = [];
    for (let i = 0; i < 25; i++) {
      const name = `many${String(i).padStart(2, '0')}`;
      await addToCommunity(t, c.id, await createUser(t, name));
      many.push(name);
    }
    expect(await names(u.ann!, 'many')).toEqual(many.slice(0, 10));
    expect(await names(u.ann!, 'many', 20)).toEqual(many.slice(0, 20));
    expect(await names(u.ann!, 'many', 1)).toEqual(['many00']);
    expect(await names(u.ann!, 'many2')).toEqual(['many20', 'many21', 'many22', 'many23', 'many24']);
  });

  it('refuses bad queries with validation_error', async () => {
    for (const qs of [
      '',
      'q=',
      'q=%20%20%20',
      `q=${'x'.repeat(65)}`,
      'q=zeta&limit=0',
      'q=zeta&limit=21',
      'q=zeta&limit=-1',
      'q=zeta&limit=ten',
      'q=zeta&limit=1.5',
    ]) {
      expect(outcome(await call(u.ann!, 'GET', `/api/users/search?${qs}`)), qs).toEqual([400, 'validation_error']);
    }
    expect(await names(u.ann!, 'x'.repeat(64))).toEqual([]);
  });

  describe('profiles', () => {
    const profile = (as: TestUser | null, id: string) => call(as, 'GET', `/api/users/${id}`);

    it('shows the public profile to people sharing a community, yourself and instance admins', async () => {
      const res = await profile(u.ann!, u.zeta1!.id);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({
        ...cardOf(u.zeta1!),
        banner_url: null,
        bio: '',
        pronouns: '',
        custom_status: '',
        // Live presence: nobody here has a socket open (gateway.test.ts covers online).
        presence: 'offline',
      });
      expect((await profile(u.ann!, u.ann!.id)).statusCode).toBe(200);
      expect((await profile(u.zeta_other!, u.zetaduo!.id)).statusCode).toBe(200);
      for (const someone of [u.zeta_out!, u.zeta_banned!, u.zetaduo!, u.ann!]) {
        expect((await profile(instanceAdmin, someone.id)).statusCode).toBe(200);
      }
    });

    it('shows live presence, never the stored status of someone without a socket', async () => {
      for (const stored of ['invisible', 'dnd', 'online']) {
        await db().updateTable('users').set({ presence: stored }).where('id', '=', u.zeta2!.id).execute();
        expect((await profile(u.ann!, u.zeta2!.id)).json()).toMatchObject({ presence: 'offline' });
      }
    });

    it('answers 404 alike for unknown users and users out of reach', async () => {
      for (const [as, whom] of [
        [u.ann!, u.zeta_out!.id],
        [u.ann!, u.zeta_banned!.id],
        [u.zeta_banned!, u.ann!.id],
        [u.ann!, u.zetaduo!.id],
        [u.zeta_out!, u.ann!.id],
        [u.ann!, instanceAdmin.id],
        [u.ann!, randomUUID()],
      ] as const) {
        expect(outcome(await profile(as, whom))).toEqual([404, 'not_found']);
      }
      expect(outcome(await profile(null, u.ann!.id))[0]).toBe(401);
      expect(outcome(await profile(u.ann!, 'x'.repeat(65)))).toEqual([400, 'validation_error']);
    });
  });
});

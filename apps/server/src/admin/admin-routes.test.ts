import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInvite, registerUser, statusAndCode, type RegisteredUser } from '../test-support/accounts.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { createUser, type TestUser } from '../test-support/users.js';

interface Invite {
  code: string;
  created_by: string | null;
  max_uses: number | null;
  uses: number;
  expires_at: number | null;
  revoked: boolean;
  created_at: number;
}
interface AuditEntry {
  id: string;
  action: string;
  actor_id: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  created_at: number;
}

describe.each(DIALECTS)('admin routes on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let owner: RegisteredUser;
  let admin: TestUser;
  let plain: TestUser;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    app = t.app;
    owner = await registerUser(app, 'owner');
    admin = await createUser(t, 'second_admin', { instanceRole: 'admin' });
    plain = await createUser(t, 'plain_user');
  });
  afterAll(() => t.close());

  const register = (username: string, inviteCode: string) =>
    app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { username, password: 'a long passphrase', invite_code: inviteCode },
    });
  const listInvites = async (auth: { authorization: string }) => {
    const res = await app.inject({ method: 'GET', url: '/api/admin/invites', headers: auth });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().invites as Invite[];
  };

  describe('registration invites', () => {
    it('creates an invite with max uses and expiry, and lists it', async () => {
      const before = Date.now();
      const res = await app.inject({
        method: 'POST',
        url: '/api/admin/invites',
        headers: admin.auth,
        payload: { max_uses: 3, expires_in_hours: 2 },
      });
      expect(res.statusCode, res.body).toBe(201);
      const invite = res.json() as Invite;
      expect(invite).toMatchObject({ created_by: admin.id, max_uses: 3, uses: 0, revoked: false });
      expect(invite.code).toMatch(/^[A-Za-z0-9]{12}$/);
      expect(invite.expires_at).toBeGreaterThanOrEqual(before + 2 * 3_600_000);
      expect(invite.expires_at).toBeLessThanOrEqual(Date.now() + 2 * 3_600_000);
      const listed = (await listInvites(owner.auth)).find((i) => i.code === invite.code);
      expect(listed).toEqual(invite);

      const unlimited = await app.inject({
        method: 'POST',
        url: '/api/admin/invites',
        headers: owner.auth,
        payload: {},
      });
      expect(unlimited.json()).toMatchObject({ max_uses: null, expires_at: null, created_by: owner.id });
    });

    it('counts uses and refuses a used-up invite', async () => {
      const code = await createInvite(app, owner.auth, { max_uses: 2 });
      expect((await register('invitee_one', code)).statusCode).toBe(201);
      expect((await register('invitee_two', code)).statusCode).toBe(201);
      expect(statusAndCode(await register('invitee_three', code))).toEqual([403, 'invalid_invite']);
      expect((await listInvites(owner.auth)).find((i) => i.code === code)).toMatchObject({ uses: 2, max_uses: 2 });
      const users = await t.db.database.db
        .selectFrom('users')
        .select('username')
        .where('username', '=', 'invitee_three')
        .execute();
      expect(users).toHaveLength(0);
    });

    it('revokes an invite, which then cannot register anyone', async () => {
      const code = await createInvite(app, owner.auth);
      const res = await app.inject({ method: 'DELETE', url: `/api/admin/invites/${code}`, headers: admin.auth });
      expect(res.statusCode, res.body).toBe(204);
      expect((await listInvites(owner.auth)).find((i) => i.code === code)?.revoked).toBe(true);
      expect(statusAndCode(await register('too_late', code))).toEqual([403, 'invalid_invite']);
      const again = await app.inject({ method: 'DELETE', url: `/api/admin/invites/${code}`, headers: admin.auth });
      expect(statusAndCode(again)).toEqual([404, 'not_found']);
      const unknown = await app.inject({
        method: 'DELETE',
        url: '/api/admin/invites/NoSuchCode12',
        headers: owner.auth,
      });
      expect(statusAndCode(unknown)).toEqual([404, 'not_found']);
      const audit = await t.db.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'invite_revoked')
        .execute();
      expect(audit.map((r) => JSON.parse(r.details).code)).toContain(code);
    });

    it('refuses an expired invite', async () => {
      const code = await createInvite(app, owner.auth, { expires_in_hours: 1 });
      await t.db.database.db
        .updateTable('registration_invites')
        .set({ expires_at: Date.now() - 1 })
        .where('code', '=', code)
        .execute();
      expect(statusAndCode(await register('expired_invitee', code))).toEqual([403, 'invalid_invite']);
      expect((await listInvites(owner.auth)).find((i) => i.code === code)?.uses).toBe(0);
    });

    it('refuses bad invite parameters', async () => {
      for (const payload of [{ max_uses: 0 }, { max_uses: 1.5 }, { expires_in_hours: 0 }, { expires_in_hours: 9000 }]) {
        const res = await app.inject({ method: 'POST', url: '/api/admin/invites', headers: owner.auth, payload });
        expect(statusAndCode(res), JSON.stringify(payload)).toEqual([400, 'validation_error']);
      }
    });
  });

  describe('audit log', () => {
    const query = async (auth: { authorization: string }, params: Record<string, string | number>) => {
      const qs = new URLSearchParams(
        Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
      ).toString();
      const res = await app.inject({ method: 'GET', url: `/api/admin/audit-log?${qs}`, headers: auth });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { entries: AuditEntry[]; next_cursor: string | null };
    };
    const markerUser = randomUUID();

    beforeAll(async () => {
      // Rows with known timestamps for the time-range filters.
      await t.db.database.db
        .insertInto('audit_log')
        .values(
          [1_000, 2_000, 2_000, 3_000].map((created_at, i) => ({
            id: `00000000-0000-4000-8000-00000000000${i}`,
            action: 'logout',
            actor_id: markerUser,
            target_id: null,
            ip: '192.0.2.1',
            user_agent: 'marker',
            details: JSON.stringify({ i }),
            created_at,
          })),
        )
        .execute();
    });

    it('records auth events with IP and user agent, newest first', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'plain_user', password: 'definitely wrong' },
        remoteAddress: '198.51.100.99',
        headers: { 'user-agent': 'AuditTest/1.0' },
      });
      expect(res.statusCode).toBe(401);
      const page = await query(owner.auth, { action: 'login_failed' });
      expect(page.entries[0]).toMatchObject({
        action: 'login_failed',
        target_id: plain.id,
        ip: '198.51.100.99',
        user_agent: 'AuditTest/1.0',
        details: { username: 'plain_user' },
      });
      const all = await query(owner.auth, { limit: 200 });
      const times = all.entries.map((e) => e.created_at);
      expect(times).toEqual([...times].sort((a, b) => b - a));
    });

    it('filters by action and by user (actor or target)', async () => {
      const registers = await query(owner.auth, { action: 'register', limit: 200 });
      expect(registers.entries.length).toBeGreaterThanOrEqual(3); // owner + the invitees
      expect(registers.entries.every((e) => e.action === 'register')).toBe(true);

      const byPlain = await query(owner.auth, { user_id: plain.id, limit: 200 });
      expect(byPlain.entries.length).toBeGreaterThan(0);
      for (const e of byPlain.entries) expect([e.actor_id, e.target_id]).toContain(plain.id);

      const both = await query(owner.auth, { user_id: owner.id, action: 'invite_created', limit: 200 });
      expect(both.entries.length).toBeGreaterThan(0);
      for (const e of both.entries) expect([e.action, e.actor_id]).toEqual(['invite_created', owner.id]);

      expect((await query(owner.auth, { action: 'no_such_action' })).entries).toEqual([]);
    });

    it('filters by time range: from inclusive, to exclusive', async () => {
      const ids = async (params: Record<string, number>) =>
        (await query(owner.auth, { user_id: markerUser, ...params })).entries.map((e) => e.details.i);
      expect(await ids({})).toEqual([3, 2, 1, 0]);
      expect(await ids({ from: 2_000 })).toEqual([3, 2, 1]);
      expect(await ids({ to: 2_000 })).toEqual([0]);
      expect(await ids({ from: 2_000, to: 3_000 })).toEqual([2, 1]);
      expect(await ids({ from: 3_001 })).toEqual([]);
    });

    it('pages with a cursor through every entry exactly once, also across equal timestamps', async () => {
      const everything = (await query(owner.auth, { limit: 200 })).entries.map((e) => e.id);
      expect(everything.length).toBeGreaterThan(5);
      expect(everything.length).toBeLessThan(200);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { entries: AuditEntry[]; next_cursor: string | null } = await query(owner.auth, {
          limit: 2,
          ...(cursor ? { cursor } : {}),
        });
        expect(page.entries.length).toBeLessThanOrEqual(2);
        seen.push(...page.entries.map((e) => e.id));
        cursor = page.next_cursor;
        pages++;
      } while (cursor && pages < 500);
      expect(seen).toEqual(everything);

      // The marker rows share a timestamp: pages of one still see both.
      const markers: string[] = [];
      cursor = null;
      do {
        const page: { entries: AuditEntry[]; next_cursor: string | null } = await query(owner.auth, {
          user_id: markerUser,
          limit: 1,
          ...(cursor ? { cursor } : {}),
        });
        markers.push(...page.entries.map((e) => String(e.details.i)));
        cursor = page.next_cursor;
      } while (cursor);
      expect(markers).toEqual(['3', '2', '1', '0']);
    });

    it('refuses a bad cursor or limit with 400', async () => {
      for (const qs of ['cursor=%21%21not-a-cursor', 'limit=0', 'limit=201', 'from=yesterday']) {
        const res = await app.inject({ method: 'GET', url: `/api/admin/audit-log?${qs}`, headers: owner.auth });
        expect(res.statusCode, qs).toBe(400);
        expect(['validation_error', 'bad_request']).toContain(res.json().error.code);
      }
    });
  });

  describe('access control', () => {
    /** Every /api/admin route of the app, with placeholder path parameters. */
    const adminRoutes = () =>
      app.routeTable
        .filter((r) => r.url.startsWith('/api/admin'))
        .map((r) => ({
          method: r.method as 'GET' | 'POST' | 'DELETE',
          url: r.url.replace(/:[a-z_]+/g, 'Placeholder1'),
        }));

    it('knows the admin routes', () => {
      const routes = adminRoutes().map((r) => `${r.method} ${r.url}`);
      expect(routes).toEqual(
        expect.arrayContaining([
          'POST /api/admin/invites',
          'GET /api/admin/invites',
          'DELETE /api/admin/invites/Placeholder1',
          'GET /api/admin/audit-log',
        ]),
      );
    });

    it('gives a non-admin 403 on every admin route and changes nothing', async () => {
      const invitesBefore = (await listInvites(owner.auth)).length;
      const code = await createInvite(app, owner.auth);
      for (const route of [...adminRoutes(), { method: 'DELETE' as const, url: `/api/admin/invites/${code}` }]) {
        const res = await app.inject({
          method: route.method,
          url: route.url,
          headers: plain.auth,
          ...(route.method === 'POST' ? { payload: {} } : {}),
        });
        expect(statusAndCode(res), `${route.method} ${route.url}`).toEqual([403, 'forbidden']);
      }
      const after = await listInvites(owner.auth);
      expect(after).toHaveLength(invitesBefore + 1);
      expect(after.find((i) => i.code === code)?.revoked).toBe(false);
    });

    it('gives an anonymous request 401 on every admin route', async () => {
      for (const route of adminRoutes()) {
        const res = await app.inject({
          method: route.method,
          url: route.url,
          ...(route.method === 'POST' ? { payload: {} } : {}),
        });
        expect(statusAndCode(res), `${route.method} ${route.url}`).toEqual([401, 'unauthorized']);
      }
    });
  });
});

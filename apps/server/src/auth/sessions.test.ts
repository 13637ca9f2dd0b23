import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, loginOk, registerUser, statusAndCode, whoAmI } from '../test-support/accounts.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { createUser, type TestUser } from '../test-support/users.js';

interface Session {
  id: string;
  device_name: string;
  ip: string | null;
  created_at: number;
  last_used_at: number;
  current: boolean;
}

describe.each(DIALECTS)('sessions on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let user: TestUser;
  let other: TestUser;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    app = t.app;
    await registerUser(app, 'owner');
    user = await createUser(t, 'multi_device');
    other = await createUser(t, 'someone_else');
  });
  afterAll(() => t.close());

  const list = async (auth: { authorization: string }) => {
    const res = await app.inject({ method: 'GET', url: '/api/account/sessions', headers: auth });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().sessions as Session[];
  };
  const currentId = async (auth: { authorization: string }) => (await list(auth)).find((s) => s.current)!.id;
  const refresh = (token: string) =>
    app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: token } });

  it('keeps both sessions when signing in twice, with device name and IP', async () => {
    const phone = await loginOk(app, user.username, user.password, { remoteAddress: '198.51.100.7' });
    const laptop = await loginOk(app, user.username, user.password, { remoteAddress: '198.51.100.8' });
    expect((await whoAmI(app, phone.auth)).statusCode).toBe(200);
    expect((await whoAmI(app, laptop.auth)).statusCode).toBe(200);
    const sessions = await list(laptop.auth);
    const ips = sessions.map((s) => s.ip);
    expect(ips).toEqual(expect.arrayContaining(['198.51.100.7', '198.51.100.8']));
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    expect(sessions.find((s) => s.current)!.ip).toBe('198.51.100.8');
    // Another user's sessions never show up.
    const otherIds = new Set((await list(other.auth)).map((s) => s.id));
    expect(sessions.some((s) => otherIds.has(s.id))).toBe(false);
  });

  it('revokes one session: its tokens stop working, the others keep going', async () => {
    const a = await loginOk(app, user.username, user.password);
    const b = await loginOk(app, user.username, user.password);
    const bId = await currentId(b.auth);
    const res = await app.inject({ method: 'DELETE', url: `/api/account/sessions/${bId}`, headers: a.auth });
    expect(res.statusCode, res.body).toBe(204);
    expect(statusAndCode(await whoAmI(app, b.auth))).toEqual([401, 'session_revoked']);
    expect(statusAndCode(await refresh(b.refreshToken))).toEqual([401, 'invalid_token']);
    expect((await whoAmI(app, a.auth)).statusCode).toBe(200);
    expect((await list(a.auth)).map((s) => s.id)).not.toContain(bId);
    const audit = (await auditRows(t, 'session_revoked')).at(-1)!;
    expect([audit.actor_id, JSON.parse(audit.details).session_id]).toEqual([user.id, bId]);

    // Revoking it again, or an unknown id, is not_found.
    const again = await app.inject({ method: 'DELETE', url: `/api/account/sessions/${bId}`, headers: a.auth });
    expect(statusAndCode(again)).toEqual([404, 'not_found']);
  });

  it("cannot revoke another user's session", async () => {
    const victimSession = await currentId(other.auth);
    const res = await app.inject({
      method: 'DELETE',
      url: `/api/account/sessions/${victimSession}`,
      headers: user.auth,
    });
    expect(statusAndCode(res)).toEqual([404, 'not_found']);
    expect((await whoAmI(app, other.auth)).statusCode).toBe(200);
  });

  it('logout signs out only the current session', async () => {
    const a = await loginOk(app, user.username, user.password);
    const b = await loginOk(app, user.username, user.password);
    const res = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: a.auth });
    expect(res.statusCode).toBe(204);
    expect(statusAndCode(await whoAmI(app, a.auth))).toEqual([401, 'session_revoked']);
    expect(statusAndCode(await refresh(a.refreshToken))).toEqual([401, 'invalid_token']);
    expect((await whoAmI(app, b.auth)).statusCode).toBe(200);
    expect((await auditRows(t, 'logout')).at(-1)!.actor_id).toBe(user.id);
  });

  it('logout-all signs out every session of the user, this one included, and no one else', async () => {
    const a = await loginOk(app, user.username, user.password);
    const b = await loginOk(app, user.username, user.password);
    const res = await app.inject({ method: 'POST', url: '/api/account/logout-all', headers: a.auth });
    expect(res.statusCode).toBe(204);
    for (const auth of [a.auth, b.auth, user.auth]) {
      expect(statusAndCode(await whoAmI(app, auth))).toEqual([401, 'session_revoked']);
    }
    expect(statusAndCode(await refresh(b.refreshToken))).toEqual([401, 'invalid_token']);
    const live = await t.db.database.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toHaveLength(0);
    expect((await whoAmI(app, other.auth)).statusCode).toBe(200);
    const audit = (await auditRows(t, 'logout_all')).at(-1)!;
    expect(audit.actor_id).toBe(user.id);
    expect(JSON.parse(audit.details).sessions_revoked).toBeGreaterThanOrEqual(3);
  });

  it('tells the open sockets of a revoked session to close', async () => {
    const a = await loginOk(app, other.username, other.password);
    const id = await currentId(a.auth);
    const published: string[] = [];
    const unsubscribe = await t.broker.subscribe(`user:${other.id}`, (message: string) => {
      published.push(message);
    });
    try {
      await app.inject({ method: 'DELETE', url: `/api/account/sessions/${id}`, headers: other.auth });
    } finally {
      await unsubscribe();
    }
    expect(published.map((m) => JSON.parse(m) as unknown)).toContainEqual(
      expect.objectContaining({ type: 'session.revoked', session_id: id }),
    );
  });
});

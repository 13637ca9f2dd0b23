import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashRefreshToken } from './tokens.js';
import {
  auditRows,
  bearer,
  loginOk,
  registerUser,
  statusAndCode,
  whoAmI,
  type RegisteredUser,
} from '../test-support/accounts.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { createUser, type TestUser } from '../test-support/users.js';

describe.each(DIALECTS)('refresh tokens on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let owner: RegisteredUser;
  let user: TestUser;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    app = t.app;
    owner = await registerUser(app, 'owner');
    user = await createUser(t, 'refresher');
  });
  afterAll(() => t.close());

  const refresh = (token: string, remoteAddress?: string) =>
    app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: token },
      ...(remoteAddress ? { remoteAddress } : {}),
    });

  it('rotates: a refresh gives a new working pair for the same session', async () => {
    const first = await loginOk(app, user.username, user.password);
    const res = await refresh(first.refreshToken);
    expect(res.statusCode, res.body).toBe(200);
    const next = res.json();
    expect(next.refresh_token).not.toBe(first.refreshToken);
    expect(next.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(next.expires_in).toBe(900);
    expect((await whoAmI(app, bearer(next.access_token))).statusCode).toBe(200);
    // The same session: it is listed once, as the current one for the new access token.
    const sessions = await app.inject({
      method: 'GET',
      url: '/api/account/sessions',
      headers: bearer(next.access_token),
    });
    const current = (sessions.json().sessions as { id: string; current: boolean }[]).filter((s) => s.current);
    expect(current).toHaveLength(1);
    // Only the hash is stored.
    const stored = await t.db.database.db
      .selectFrom('refresh_tokens')
      .select('token_hash')
      .where('token_hash', 'in', [next.refresh_token, hashRefreshToken(next.refresh_token)])
      .execute();
    expect(stored.map((r) => r.token_hash)).toEqual([hashRefreshToken(next.refresh_token)]);
  });

  it('treats reuse of a rotated token as theft: the session is revoked and the event audited', async () => {
    const first = await loginOk(app, user.username, user.password);
    const rotated = await refresh(first.refreshToken);
    expect(rotated.statusCode).toBe(200);
    const newest = rotated.json() as { access_token: string; refresh_token: string };
    const before = (await auditRows(t, 'refresh_token_reused')).length;

    const reuse = await refresh(first.refreshToken, '203.0.113.9');
    expect(statusAndCode(reuse)).toEqual([401, 'invalid_token']);

    // Both the first access token and the newest one belong to the revoked session.
    expect(statusAndCode(await whoAmI(app, first.auth))).toEqual([401, 'session_revoked']);
    expect(statusAndCode(await whoAmI(app, bearer(newest.access_token)))).toEqual([401, 'session_revoked']);
    expect(statusAndCode(await refresh(newest.refresh_token))).toEqual([401, 'invalid_token']);

    const rows = await auditRows(t, 'refresh_token_reused');
    expect(rows).toHaveLength(before + 1);
    const row = rows.at(-1)!;
    expect(row.actor_id).toBe(user.id);
    expect(row.ip).toBe('203.0.113.9');
    const sid = (await t.db.database.db
      .selectFrom('sessions')
      .select(['id', 'revoked_at'])
      .where('id', '=', JSON.parse(row.details).session_id as string)
      .executeTakeFirst())!;
    expect(sid.revoked_at).not.toBeNull();
    // Other sessions of the same user are untouched.
    expect((await whoAmI(app, user.auth)).statusCode).toBe(200);
  });

  it('lets exactly one of 50 parallel refreshes of one token succeed', async () => {
    const session = await loginOk(app, 'owner', owner.password);
    const db = t.db.database.db;
    const { session_id: sessionId } = await db
      .selectFrom('refresh_tokens')
      .select('session_id')
      .where('token_hash', '=', hashRefreshToken(session.refreshToken))
      .executeTakeFirstOrThrow();
    const results = await Promise.all(Array.from({ length: 50 }, () => refresh(session.refreshToken)));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(49);
    for (const r of results.filter((res) => res.statusCode === 401)) expect(r.json().error.code).toBe('invalid_token');
    // At most one successor token was ever minted for the session.
    const successors = await db
      .selectFrom('refresh_tokens')
      .select('token_hash')
      .where('session_id', '=', sessionId)
      .where('token_hash', '!=', hashRefreshToken(session.refreshToken))
      .execute();
    expect(successors.length).toBeLessThanOrEqual(1);
  });

  it('refuses unknown, expired, logged-out and suspended-user refresh tokens', async () => {
    expect(statusAndCode(await refresh('A'.repeat(43)))).toEqual([401, 'invalid_token']);

    const expiring = await loginOk(app, user.username, user.password);
    await t.db.database.db
      .updateTable('refresh_tokens')
      .set({ expires_at: Date.now() - 1000 })
      .where('token_hash', '=', hashRefreshToken(expiring.refreshToken))
      .execute();
    expect(statusAndCode(await refresh(expiring.refreshToken))).toEqual([401, 'invalid_token']);

    const loggedOut = await loginOk(app, user.username, user.password);
    expect((await app.inject({ method: 'POST', url: '/api/auth/logout', headers: loggedOut.auth })).statusCode).toBe(
      204,
    );
    expect(statusAndCode(await refresh(loggedOut.refreshToken))).toEqual([401, 'invalid_token']);

    const suspended = await createUser(t, 'suspended_refresh');
    const session = await loginOk(app, suspended.username, suspended.password);
    await t.db.database.db
      .updateTable('users')
      .set({ suspended_at: Date.now(), suspended_reason: 'test' })
      .where('id', '=', suspended.id)
      .execute();
    expect(statusAndCode(await refresh(session.refreshToken))).toEqual([403, 'account_suspended']);
  });
});

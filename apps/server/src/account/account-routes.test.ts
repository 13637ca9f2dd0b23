import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  enableTotp,
  login,
  loginOk,
  registerUser,
  statusAndCode,
  totpCode,
  whoAmI,
  type RegisteredUser,
} from '../test-support/accounts.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { createUser, type TestUser } from '../test-support/users.js';

describe.each(DIALECTS)('account routes on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let owner: RegisteredUser;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    app = t.app;
    owner = await registerUser(app, 'owner', { email: 'Owner@Example.org' });
  });
  afterAll(() => t.close());

  const refresh = (token: string) =>
    app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: token } });

  describe('password change', () => {
    it('revokes the other sessions, keeps this one; the new password works and the old one not', async () => {
      const user = await createUser(t, 'changer');
      const here = await loginOk(app, user.username, user.password);
      const elsewhere = await loginOk(app, user.username, user.password);
      const newPassword = 'my new secret phrase';
      const change = (payload: Record<string, unknown>) =>
        app.inject({ method: 'PUT', url: '/api/account/password', headers: here.auth, payload });

      expect(statusAndCode(await change({ current_password: 'wrong!!', new_password: newPassword }))).toEqual([
        401,
        'invalid_credentials',
      ]);
      expect(statusAndCode(await change({ current_password: user.password, new_password: 'password1' }))).toEqual([
        400,
        'weak_password',
      ]);
      expect(statusAndCode(await change({ current_password: user.password, new_password: 'short' }))).toEqual([
        400,
        'validation_error',
      ]);
      // Refusals changed nothing.
      expect((await whoAmI(app, elsewhere.auth)).statusCode).toBe(200);

      const res = await change({ current_password: user.password, new_password: newPassword });
      expect(res.statusCode, res.body).toBe(204);
      expect((await whoAmI(app, here.auth)).statusCode).toBe(200);
      expect((await refresh(here.refreshToken)).statusCode).toBe(200);
      for (const auth of [elsewhere.auth, user.auth]) {
        expect(statusAndCode(await whoAmI(app, auth))).toEqual([401, 'session_revoked']);
      }
      expect(statusAndCode(await refresh(elsewhere.refreshToken))).toEqual([401, 'invalid_token']);
      expect(statusAndCode(await login(app, user.username, user.password))).toEqual([401, 'invalid_credentials']);
      await loginOk(app, user.username, newPassword);
      const audit = (await auditRows(t, 'password_changed')).at(-1)!;
      expect(audit.actor_id).toBe(user.id);
      expect(JSON.parse(audit.details)).toEqual({ sessions_revoked: 2 });
    });
  });

  describe('profile', () => {
    let user: TestUser;
    beforeAll(async () => {
      user = await createUser(t, 'profiled');
    });

    it('returns the own account without secrets', async () => {
      const res = await whoAmI(app, user.auth);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        id: user.id,
        username: user.username,
        display_name: user.username,
        email: null,
        instance_role: 'user',
        totp_enabled: false,
        presence: expect.any(String),
      });
      for (const secret of ['password_hash', 'totp_secret', 'recovery_code_hash', 'preferences']) {
        expect(res.json()).not.toHaveProperty(secret);
      }
    });

    it('updates the profile fields and keeps what was not sent', async () => {
      const patch = (payload: Record<string, unknown>) =>
        app.inject({ method: 'PATCH', url: '/api/account/profile', headers: user.auth, payload });
      const res = await patch({
        display_name: '  Pro File  ',
        bio: 'Hello there',
        pronouns: 'they/them',
        custom_status: 'Testing',
        presence: 'dnd',
        email: 'profiled@example.org',
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        display_name: 'Pro File',
        bio: 'Hello there',
        pronouns: 'they/them',
        custom_status: 'Testing',
        presence: 'dnd',
        email: 'profiled@example.org',
      });
      const partial = await patch({ bio: 'Changed' });
      expect(partial.json()).toMatchObject({ display_name: 'Pro File', bio: 'Changed', presence: 'dnd' });
      expect((await whoAmI(app, user.auth)).json()).toMatchObject({ bio: 'Changed', email: 'profiled@example.org' });

      expect(statusAndCode(await patch({ bio: 'x'.repeat(501) }))).toEqual([400, 'validation_error']);
      expect(statusAndCode(await patch({ presence: 'online-ish' }))).toEqual([400, 'validation_error']);
      expect(statusAndCode(await patch({ display_name: '   ' }))).toEqual([400, 'validation_error']);
      expect(statusAndCode(await patch({ email: 'not an email' }))).toEqual([400, 'validation_error']);
      expect((await whoAmI(app, user.auth)).json().bio).toBe('Changed');
    });

    it('keeps email addresses unique case-insensitively; null removes the own address', async () => {
      const patch = (auth: { authorization: string }, payload: Record<string, unknown>) =>
        app.inject({ method: 'PATCH', url: '/api/account/profile', headers: auth, payload });
      expect(statusAndCode(await patch(user.auth, { email: 'OWNER@example.ORG' }))).toEqual([409, 'email_taken']);
      // Setting one's own address again (in another case) is fine.
      const same = await patch(user.auth, { email: 'PROFILED@example.org' });
      expect(same.statusCode, same.body).toBe(200);
      const cleared = await patch(user.auth, { email: null });
      expect(cleared.statusCode, cleared.body).toBe(200);
      expect(cleared.json().email).toBeNull();
      // Now free for someone else, and registration sees the taken one.
      const other = await createUser(t, 'second_profile');
      expect((await patch(other.auth, { email: 'profiled@EXAMPLE.org' })).statusCode).toBe(200);
      expect(statusAndCode(await patch(user.auth, { email: 'Profiled@example.org' }))).toEqual([409, 'email_taken']);
    });
  });

  describe('preferences', () => {
    let user: TestUser;
    beforeAll(async () => {
      user = await createUser(t, 'prefs_user');
    });
    const get = () => app.inject({ method: 'GET', url: '/api/account/preferences', headers: user.auth });
    const put = (payload: unknown) =>
      app.inject({ method: 'PUT', url: '/api/account/preferences', headers: user.auth, payload: payload as object });

    it('starts empty, merges top-level keys, and null removes a key', async () => {
      expect((await get()).json()).toEqual({});
      const first = await put({ theme: 'dark', density: 'compact', nested: { a: 1 } });
      expect(first.statusCode, first.body).toBe(200);
      expect(first.json()).toEqual({ theme: 'dark', density: 'compact', nested: { a: 1 } });
      const second = await put({ density: null, nested: { b: 2 }, lang: 'de' });
      expect(second.json()).toEqual({ theme: 'dark', nested: { b: 2 }, lang: 'de' });
      expect((await get()).json()).toEqual({ theme: 'dark', nested: { b: 2 }, lang: 'de' });
      // Removing a key that is not there is harmless.
      expect((await put({ never_set: null })).json()).toEqual({ theme: 'dark', nested: { b: 2 }, lang: 'de' });
    });

    it('refuses more than 16 KB in all (also when it only grows by merging), changing nothing', async () => {
      const before = (await get()).json();
      const tooBig = await put({ blob: 'x'.repeat(16 * 1024) });
      expect(statusAndCode(tooBig)).toEqual([413, 'payload_too_large']);
      expect((await get()).json()).toEqual(before);

      const half = 'y'.repeat(9 * 1024);
      expect((await put({ first_half: half })).statusCode).toBe(200);
      expect(statusAndCode(await put({ second_half: half }))).toEqual([413, 'payload_too_large']);
      expect(Object.keys((await get()).json()).sort()).toEqual([...Object.keys(before), 'first_half'].sort());
      // Replacing the big value with a small one fits again.
      expect((await put({ first_half: null, second_half: 'small' })).statusCode).toBe(200);
    });

    it('keeps each user to their own preferences', async () => {
      const other = await createUser(t, 'prefs_other');
      const res = await app.inject({ method: 'GET', url: '/api/account/preferences', headers: other.auth });
      expect(res.json()).toEqual({});
    });
  });

  describe('account deletion', () => {
    const del = (auth: { authorization: string }, payload?: Record<string, unknown>) =>
      app.inject({ method: 'DELETE', url: '/api/account', headers: auth, ...(payload ? { payload } : {}) });

    it('needs the password; then the account, its sessions and its sign-in are gone', async () => {
      const user = await createUser(t, 'leaver');
      const second = await loginOk(app, user.username, user.password);
      expect(statusAndCode(await del(user.auth, {}))).toEqual([400, 'validation_error']);
      expect(statusAndCode(await del(user.auth, { password: 'not the password' }))).toEqual([
        401,
        'invalid_credentials',
      ]);
      expect((await whoAmI(app, user.auth)).statusCode).toBe(200);

      const res = await del(user.auth, { password: user.password });
      expect(res.statusCode, res.body).toBe(204);
      for (const auth of [user.auth, second.auth]) {
        expect(statusAndCode(await whoAmI(app, auth))).toEqual([401, 'session_revoked']);
      }
      expect(statusAndCode(await refresh(second.refreshToken))).toEqual([401, 'invalid_token']);
      expect(statusAndCode(await login(app, user.username, user.password))).toEqual([401, 'invalid_credentials']);
      const db = t.db.database.db;
      expect(await db.selectFrom('users').select('id').where('id', '=', user.id).execute()).toHaveLength(0);
      expect(await db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).toHaveLength(0);
      expect((await auditRows(t, 'account_deleted')).at(-1)!.target_id).toBe(user.id);
    });

    it('refuses to delete the instance owner', async () => {
      const res = await del(owner.auth, { password: owner.password });
      expect(statusAndCode(res)).toEqual([403, 'forbidden']);
      expect((await whoAmI(app, owner.auth)).statusCode).toBe(200);
    });

    it('needs a 2FA code too when 2FA is on', async () => {
      const user = await createUser(t, 'leaver_2fa');
      const { secret } = await enableTotp(app, user.auth);
      expect(statusAndCode(await del(user.auth, { password: user.password }))).toEqual([401, 'totp_required']);
      expect(statusAndCode(await del(user.auth, { password: user.password, totp_code: 'ZZZZ-ZZZZ' }))).toEqual([
        401,
        'invalid_totp',
      ]);
      expect((await whoAmI(app, user.auth)).statusCode).toBe(200);
      const res = await del(user.auth, { password: user.password, totp_code: totpCode(secret) });
      expect(res.statusCode, res.body).toBe(204);
      expect(statusAndCode(await whoAmI(app, user.auth))).toEqual([401, 'session_revoked']);
    });
  });
});

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
} from '../test-support/accounts.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { createUser, type TestUser } from '../test-support/users.js';

const BACKUP_CODE = /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/;

describe.each(DIALECTS)('two-factor authentication on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    app = t.app;
    await registerUser(app, 'owner');
  });
  afterAll(() => t.close());

  const post = (url: string, auth: { authorization: string }, payload?: Record<string, unknown>) =>
    app.inject({ method: 'POST', url, headers: auth, ...(payload ? { payload } : {}) });

  describe('enabling, signing in, replay and backup codes', () => {
    let user: TestUser;
    let secret: string;
    let backupCodes: string[];
    /** The code that turned 2FA on (kept: recomputing it later could land in another 30 s step). */
    let enablingCode: string;

    beforeAll(async () => {
      user = await createUser(t, 'twofa_user');
    });

    it('sets up with a secret and otpauth URI, refuses a wrong code, enables with a current one', async () => {
      const setup = await post('/api/account/totp/setup', user.auth);
      expect(setup.statusCode, setup.body).toBe(200);
      const body = setup.json() as { secret: string; otpauth_url: string };
      expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
      const uri = new URL(body.otpauth_url);
      expect(uri.protocol).toBe('otpauth:');
      expect(uri.searchParams.get('secret')).toBe(body.secret);
      expect(uri.searchParams.get('algorithm')).toBe('SHA1');
      expect(uri.searchParams.get('digits')).toBe('6');
      expect(uri.searchParams.get('period')).toBe('30');
      expect(decodeURIComponent(uri.pathname)).toContain(user.username);
      secret = body.secret;

      // Not on yet: signing in needs no code.
      expect((await login(app, user.username, user.password)).statusCode).toBe(200);

      const wrongCode = String((Number(totpCode(secret)) + 1) % 1_000_000).padStart(6, '0');
      const wrong = await post('/api/account/totp/enable', user.auth, { code: wrongCode });
      // (A wrong code that happens to equal a neighbouring step's code is astronomically unlikely.)
      expect(statusAndCode(wrong)).toEqual([401, 'invalid_totp']);

      enablingCode = totpCode(secret, -1);
      const enable = await post('/api/account/totp/enable', user.auth, { code: enablingCode });
      expect(enable.statusCode, enable.body).toBe(200);
      backupCodes = enable.json().backup_codes as string[];
      expect(backupCodes).toHaveLength(8);
      expect(new Set(backupCodes).size).toBe(8);
      for (const code of backupCodes) expect(code).toMatch(BACKUP_CODE);

      const profile = await whoAmI(app, user.auth);
      expect(profile.json().totp_enabled).toBe(true);
      // The secret is sealed at rest: the database never holds it in the clear.
      const row = await t.db.database.db
        .selectFrom('users')
        .select(['totp_secret', 'totp_pending_secret'])
        .where('id', '=', user.id)
        .executeTakeFirstOrThrow();
      expect(row.totp_secret).toBeTruthy();
      expect(row.totp_secret).not.toContain(secret);
      expect(row.totp_pending_secret).toBeNull();
      const codes = await t.db.database.db
        .selectFrom('backup_codes')
        .select('code_hash')
        .where('user_id', '=', user.id)
        .execute();
      expect(codes).toHaveLength(8);
      for (const { code_hash } of codes) expect(backupCodes.map((c) => c.replace('-', ''))).not.toContain(code_hash);
      expect((await auditRows(t, 'totp_enabled')).at(-1)!.actor_id).toBe(user.id);
    });

    it('refuses setup and enable again while 2FA is on', async () => {
      expect(statusAndCode(await post('/api/account/totp/setup', user.auth))).toEqual([400, 'bad_request']);
      const again = await post('/api/account/totp/enable', user.auth, { code: totpCode(secret) });
      expect(statusAndCode(again)).toEqual([400, 'bad_request']);
    });

    it('asks for a code at sign-in, accepts a current code once, and refuses the replay', async () => {
      expect(statusAndCode(await login(app, user.username, user.password))).toEqual([401, 'totp_required']);
      // The code used to enable 2FA is spent already.
      const enableCode = await login(app, user.username, user.password, { totpCode: enablingCode });
      expect(statusAndCode(enableCode)).toEqual([401, 'invalid_totp']);
      // A wrong password with a valid code is still just wrong credentials, and spends nothing.
      const code = totpCode(secret);
      const badPassword = await login(app, user.username, 'not the password', { totpCode: code });
      expect(statusAndCode(badPassword)).toEqual([401, 'invalid_credentials']);

      const ok = await login(app, user.username, user.password, { totpCode: code });
      expect(ok.statusCode, ok.body).toBe(200);
      const replay = await login(app, user.username, user.password, { totpCode: code });
      expect(statusAndCode(replay)).toEqual([401, 'invalid_totp']);
      expect((await auditRows(t, 'totp_used')).some((r) => r.actor_id === user.id)).toBe(true);
    });

    it('accepts a backup code once, in any case and without the dash, then refuses it', async () => {
      const code = backupCodes[0]!;
      const typed = code.replace('-', '').toLowerCase();
      const first = await login(app, user.username, user.password, { totpCode: typed });
      expect(first.statusCode, first.body).toBe(200);
      const second = await login(app, user.username, user.password, { totpCode: code });
      expect(statusAndCode(second)).toEqual([401, 'invalid_totp']);
      // Another unused backup code still works.
      expect((await login(app, user.username, user.password, { totpCode: backupCodes[1]! })).statusCode).toBe(200);
      expect((await auditRows(t, 'backup_code_used')).filter((r) => r.actor_id === user.id)).toHaveLength(2);
    });

    it('regenerates backup codes only with password and code; the old ones stop working', async () => {
      const missingCode = await post('/api/account/totp/backup-codes', user.auth, { password: user.password });
      expect(statusAndCode(missingCode)).toEqual([400, 'validation_error']);
      const wrongPassword = await post('/api/account/totp/backup-codes', user.auth, {
        password: 'not the password',
        code: backupCodes[2]!,
      });
      expect(statusAndCode(wrongPassword)).toEqual([401, 'invalid_credentials']);
      const wrongCode = await post('/api/account/totp/backup-codes', user.auth, {
        password: user.password,
        code: 'ZZZZ-ZZZZ',
      });
      expect(statusAndCode(wrongCode)).toEqual([401, 'invalid_totp']);

      const res = await post('/api/account/totp/backup-codes', user.auth, {
        password: user.password,
        code: backupCodes[2]!,
      });
      expect(res.statusCode, res.body).toBe(200);
      const fresh = res.json().backup_codes as string[];
      expect(fresh).toHaveLength(8);
      for (const code of fresh) expect(code).toMatch(BACKUP_CODE);
      expect(fresh.some((c) => backupCodes.includes(c))).toBe(false);

      // backupCodes[3] was never used, and it no longer works.
      const old = await login(app, user.username, user.password, { totpCode: backupCodes[3]! });
      expect(statusAndCode(old)).toEqual([401, 'invalid_totp']);
      const ok = await login(app, user.username, user.password, { totpCode: fresh[0]! });
      expect(ok.statusCode, ok.body).toBe(200);
      backupCodes = fresh.slice(1);
      expect((await auditRows(t, 'backup_codes_regenerated')).at(-1)!.actor_id).toBe(user.id);
    });

    it('disables only with password and a current code', async () => {
      const noCode = await post('/api/account/totp/disable', user.auth, { password: user.password });
      expect(statusAndCode(noCode)).toEqual([400, 'validation_error']);
      const wrongPassword = await post('/api/account/totp/disable', user.auth, {
        password: 'not the password',
        code: backupCodes[0]!,
      });
      expect(statusAndCode(wrongPassword)).toEqual([401, 'invalid_credentials']);
      const wrongCode = await post('/api/account/totp/disable', user.auth, {
        password: user.password,
        code: '000000' === totpCode(secret) ? '111111' : '000000',
      });
      expect(statusAndCode(wrongCode)).toEqual([401, 'invalid_totp']);
      // Still on after all those refusals.
      expect(statusAndCode(await login(app, user.username, user.password))).toEqual([401, 'totp_required']);

      const res = await post('/api/account/totp/disable', user.auth, {
        password: user.password,
        code: backupCodes[0]!,
      });
      expect(res.statusCode, res.body).toBe(204);
      expect((await whoAmI(app, user.auth)).json().totp_enabled).toBe(false);
      await loginOk(app, user.username, user.password);
      const left = await t.db.database.db
        .selectFrom('backup_codes')
        .select('code_hash')
        .where('user_id', '=', user.id)
        .execute();
      expect(left).toHaveLength(0);
      expect((await auditRows(t, 'totp_disabled')).at(-1)!.actor_id).toBe(user.id);

      // Disabling again: 2FA is not on.
      const again = await post('/api/account/totp/disable', user.auth, { password: user.password, code: '123456' });
      expect(statusAndCode(again)).toEqual([400, 'bad_request']);
    });
  });

  it('refuses enable before setup', async () => {
    const fresh = await createUser(t, 'no_setup');
    const res = await post('/api/account/totp/enable', fresh.auth, { code: '123456' });
    expect(statusAndCode(res)).toEqual([400, 'bad_request']);
  });

  it('disables with a current TOTP code (not only a backup code)', async () => {
    const user = await createUser(t, 'totp_disable');
    const { secret } = await enableTotp(app, user.auth);
    const res = await post('/api/account/totp/disable', user.auth, {
      password: user.password,
      code: totpCode(secret),
    });
    expect(res.statusCode, res.body).toBe(204);
  });

  it('counts wrong 2FA codes as failed sign-ins in the audit log', async () => {
    const user = await createUser(t, 'totp_failures');
    await enableTotp(app, user.auth);
    const before = (await auditRows(t, 'login_failed')).filter((r) => r.target_id === user.id).length;
    const res = await login(app, user.username, user.password, { totpCode: 'ZZZZ-ZZZZ' });
    expect(statusAndCode(res)).toEqual([401, 'invalid_totp']);
    const after = (await auditRows(t, 'login_failed')).filter((r) => r.target_id === user.id);
    expect(after).toHaveLength(before + 1);
    expect(JSON.parse(after.at(-1)!.details)).toEqual({ reason: 'totp' });
  });
});

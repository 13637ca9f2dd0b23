import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  createInvite,
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

const RECOVERY_CODE = /^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$/;

describe.each(DIALECTS)('account recovery on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let owner: RegisteredUser;
  let invite: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    app = t.app;
    owner = await registerUser(app, 'owner');
    invite = await createInvite(app, owner.auth);
  });
  afterAll(() => t.close());

  const recover = (payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/api/auth/recover', payload });
  const refresh = (token: string) =>
    app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: token } });

  it('resets the password, returns a new code, revokes every session; the old code stops working', async () => {
    const user = await registerUser(app, 'forgetful', { inviteCode: invite });
    const other = await loginOk(app, user.username, user.password);
    const newPassword = 'a brand new passphrase';

    const wrongCode = await recover({
      username: user.username,
      recovery_code: 'AAAA-BBBB-CCCC-DDDD',
      new_password: newPassword,
    });
    expect(statusAndCode(wrongCode)).toEqual([401, 'invalid_credentials']);
    // An unknown user gets exactly the same answer.
    const unknown = await recover({
      username: 'nobody_at_all',
      recovery_code: user.recoveryCode,
      new_password: newPassword,
    });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.body).toBe(wrongCode.body);
    const weak = await recover({
      username: user.username,
      recovery_code: user.recoveryCode,
      new_password: 'password1',
    });
    expect(statusAndCode(weak)).toEqual([400, 'weak_password']);
    // None of the refusals changed anything.
    expect((await whoAmI(app, user.auth)).statusCode).toBe(200);

    const res = await recover({
      username: user.username.toUpperCase(),
      recovery_code: user.recoveryCode.toLowerCase(),
      new_password: newPassword,
    });
    expect(res.statusCode, res.body).toBe(200);
    const next = res.json().recovery_code as string;
    expect(next).toMatch(RECOVERY_CODE);
    expect(next).not.toBe(user.recoveryCode);

    for (const auth of [user.auth, other.auth]) {
      expect(statusAndCode(await whoAmI(app, auth))).toEqual([401, 'session_revoked']);
    }
    for (const token of [user.refreshToken, other.refreshToken]) {
      expect(statusAndCode(await refresh(token))).toEqual([401, 'invalid_token']);
    }
    expect(statusAndCode(await login(app, user.username, user.password))).toEqual([401, 'invalid_credentials']);
    await loginOk(app, user.username, newPassword);

    const reused = await recover({
      username: user.username,
      recovery_code: user.recoveryCode,
      new_password: 'yet another passphrase',
    });
    expect(statusAndCode(reused)).toEqual([401, 'invalid_credentials']);
    const again = await recover({
      username: user.username,
      recovery_code: next,
      new_password: 'yet another passphrase',
    });
    expect(again.statusCode, again.body).toBe(200);
    await loginOk(app, user.username, 'yet another passphrase');

    const audit = (await auditRows(t, 'recovery_used')).filter((r) => r.actor_id === user.id);
    expect(audit).toHaveLength(2);
  });

  it('regenerates the recovery code from settings with the password; the old one stops working', async () => {
    const user = await registerUser(app, 'regenerator', { inviteCode: invite });
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/account/recovery-code',
      headers: user.auth,
      payload: { password: 'not my password' },
    });
    expect(statusAndCode(wrong)).toEqual([401, 'invalid_credentials']);
    const res = await app.inject({
      method: 'POST',
      url: '/api/account/recovery-code',
      headers: user.auth,
      payload: { password: user.password },
    });
    expect(res.statusCode, res.body).toBe(200);
    const fresh = res.json().recovery_code as string;
    expect(fresh).toMatch(RECOVERY_CODE);
    expect(fresh).not.toBe(user.recoveryCode);
    const old = await recover({
      username: user.username,
      recovery_code: user.recoveryCode,
      new_password: 'changed passphrase here',
    });
    expect(statusAndCode(old)).toEqual([401, 'invalid_credentials']);
    const ok = await recover({
      username: user.username,
      recovery_code: fresh,
      new_password: 'changed passphrase here',
    });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('does not bypass 2FA: without a code it is totp_required, with a code it works', async () => {
    const user = await registerUser(app, 'guarded', { inviteCode: invite });
    const { secret, backupCodes } = await enableTotp(app, user.auth);
    const newPassword = 'guarded new passphrase';

    const noCode = await recover({
      username: user.username,
      recovery_code: user.recoveryCode,
      new_password: newPassword,
    });
    expect(statusAndCode(noCode)).toEqual([401, 'totp_required']);
    const badCode = await recover({
      username: user.username,
      recovery_code: user.recoveryCode,
      new_password: newPassword,
      totp_code: 'ZZZZ-ZZZZ',
    });
    expect(statusAndCode(badCode)).toEqual([401, 'invalid_totp']);
    // Nothing changed: the old password still signs in (with a backup code), the session lives.
    expect((await whoAmI(app, user.auth)).statusCode).toBe(200);
    await loginOk(app, user.username, user.password, { totpCode: backupCodes[0]! });

    const res = await recover({
      username: user.username,
      recovery_code: user.recoveryCode,
      new_password: newPassword,
      totp_code: totpCode(secret),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(statusAndCode(await whoAmI(app, user.auth))).toEqual([401, 'session_revoked']);
    // 2FA is still on after recovery.
    expect(statusAndCode(await login(app, user.username, newPassword))).toEqual([401, 'totp_required']);
    await loginOk(app, user.username, newPassword, { totpCode: backupCodes[1]! });
  });
});

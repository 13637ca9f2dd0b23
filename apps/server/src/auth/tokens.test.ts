import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, exportJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, loginOk, registerUser, statusAndCode, whoAmI, type RegisteredUser } from '../test-support/accounts.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { createUser } from '../test-support/users.js';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe.each(DIALECTS)('access token verification on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let owner: RegisteredUser;
  /** The claims of a genuine access token of the owner. */
  let claims: { iss: string; aud: string; sub: string; sid: string };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    app = t.app;
    owner = await registerUser(app, 'owner');
    const payload = decodeJwt(owner.accessToken);
    claims = {
      iss: payload.iss!,
      aud: payload.aud as string,
      sub: payload.sub!,
      sid: payload.sid as string,
    };
  });
  afterAll(() => t.close());

  /** Signs with the server's real private key, so only the claims under test are wrong. */
  function signReal(payload: Record<string, unknown>, options: { iat?: number; exp?: number } = {}) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setIssuedAt(options.iat ?? now)
      .setExpirationTime(options.exp ?? now + 600)
      .sign(t.secrets.jwtPrivateKey);
  }

  const goodPayload = () => ({ iss: claims.iss, aud: claims.aud, sub: claims.sub, sid: claims.sid, typ: 'access' });

  it('issues EdDSA tokens with iss, aud, sub, sid, iat, exp and typ, valid 15 minutes', async () => {
    const [header] = owner.accessToken.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toMatchObject({ alg: 'EdDSA' });
    const payload = decodeJwt(owner.accessToken);
    expect(payload).toMatchObject({ sub: owner.id, typ: 'access', aud: 'chatalot' });
    expect(typeof payload.sid).toBe('string');
    expect(typeof payload.iss).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(15 * 60);
    expect((await whoAmI(app, owner.auth)).statusCode).toBe(200);
  });

  it('accepts a token it did not issue itself but signed with the real key and right claims (control)', async () => {
    // Control for the negatives below: the hand-built token is accepted when nothing is wrong.
    const res = await whoAmI(app, bearer(await signReal(goodPayload())));
    expect(res.statusCode).toBe(200);
  });

  it('rejects alg none', async () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...goodPayload(), iat: 1, exp: 4102444800 })}.`;
    expect(statusAndCode(await whoAmI(app, bearer(token)))).toEqual([401, 'invalid_token']);
    const noSig = token.slice(0, -1);
    expect((await whoAmI(app, bearer(noSig))).statusCode).toBe(401);
  });

  it('rejects HS256 signed with the server public key PEM as the HMAC secret', async () => {
    const pem = t.secrets.jwtPublicKey.export({ type: 'spki', format: 'pem' }) as string;
    const now = Math.floor(Date.now() / 1000);
    for (const secret of [pem, pem.trim()]) {
      const token = await new SignJWT(goodPayload())
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(new TextEncoder().encode(secret));
      expect(statusAndCode(await whoAmI(app, bearer(token)))).toEqual([401, 'invalid_token']);
    }
  });

  it('rejects an expired token with token_expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signReal(goodPayload(), { iat: now - 3600, exp: now - 1800 });
    expect(statusAndCode(await whoAmI(app, bearer(token)))).toEqual([401, 'token_expired']);
  });

  it('rejects a wrong audience and a wrong issuer', async () => {
    for (const payload of [
      { ...goodPayload(), aud: 'someone-else' },
      { ...goodPayload(), iss: 'https://evil.example' },
    ]) {
      expect(statusAndCode(await whoAmI(app, bearer(await signReal(payload))))).toEqual([401, 'invalid_token']);
    }
  });

  it('rejects a token whose typ is not access, or that lacks sid', async () => {
    const { sid: _sid, ...noSid } = goodPayload();
    for (const payload of [{ ...goodPayload(), typ: 'refresh' }, { ...goodPayload(), typ: undefined }, noSid]) {
      expect(statusAndCode(await whoAmI(app, bearer(await signReal(payload))))).toEqual([401, 'invalid_token']);
    }
  });

  it('rejects a tampered payload and a tampered signature', async () => {
    const other = await createUser(t, 'victim');
    const [header, payload, signature] = owner.accessToken.split('.') as [string, string, string];
    const forged = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: other.id };
    const tamperedPayload = `${header}.${b64url(forged)}.${signature}`;
    expect(statusAndCode(await whoAmI(app, bearer(tamperedPayload)))).toEqual([401, 'invalid_token']);

    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    expect(statusAndCode(await whoAmI(app, bearer(`${header}.${payload}.${flipped}`)))).toEqual([401, 'invalid_token']);
    // The untouched token still works: the failures above come from the tampering.
    expect((await whoAmI(app, owner.auth)).statusCode).toBe(200);
  });

  it('rejects a token signed with an attacker key embedded as jwk in the header', async () => {
    const attacker = generateKeyPairSync('ed25519');
    const jwk = await exportJWK(attacker.publicKey);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT(goodPayload())
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', jwk })
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(attacker.privateKey);
    expect(statusAndCode(await whoAmI(app, bearer(token)))).toEqual([401, 'invalid_token']);
  });

  it('rejects a refresh token sent as the bearer token', async () => {
    expect(statusAndCode(await whoAmI(app, bearer(owner.refreshToken)))).toEqual([401, 'invalid_token']);
  });

  it('rejects a missing or malformed Authorization header with unauthorized', async () => {
    expect(statusAndCode(await app.inject({ method: 'GET', url: '/api/account/profile' }))).toEqual([
      401,
      'unauthorized',
    ]);
    const basic = await whoAmI(app, { authorization: `Basic ${Buffer.from('owner:x').toString('base64')}` });
    expect(statusAndCode(basic)).toEqual([401, 'unauthorized']);
  });

  it('rejects a validly signed token whose sid belongs to another user', async () => {
    const other = await createUser(t, 'other_user');
    const otherSid = decodeJwt(other.auth.authorization.slice('Bearer '.length)).sid as string;
    const token = await signReal({ ...goodPayload(), sid: otherSid });
    expect(statusAndCode(await whoAmI(app, bearer(token)))).toEqual([401, 'session_revoked']);
  });

  it('refuses the access token of a revoked session with session_revoked', async () => {
    const session = await loginOk(app, 'owner', owner.password);
    expect((await whoAmI(app, session.auth)).statusCode).toBe(200);
    const logout = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: session.auth });
    expect(logout.statusCode).toBe(204);
    expect(statusAndCode(await whoAmI(app, session.auth))).toEqual([401, 'session_revoked']);
  });

  it('refuses a suspended user on the very next request, and a demoted admin at once', async () => {
    const db = t.db.database.db;
    const user = await createUser(t, 'soon_suspended', { instanceRole: 'admin' });
    expect((await whoAmI(app, user.auth)).statusCode).toBe(200);
    const invites = () => app.inject({ method: 'GET', url: '/api/admin/invites', headers: user.auth });
    expect((await invites()).statusCode).toBe(200);

    await db.updateTable('users').set({ instance_role: 'user' }).where('id', '=', user.id).execute();
    expect(statusAndCode(await invites())).toEqual([403, 'forbidden']);

    await db
      .updateTable('users')
      .set({ suspended_at: Date.now(), suspended_reason: 'test' })
      .where('id', '=', user.id)
      .execute();
    expect(statusAndCode(await whoAmI(app, user.auth))).toEqual([403, 'account_suspended']);
    // And the suspended user cannot sign in again either.
    const again = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: user.username, password: user.password },
    });
    expect(statusAndCode(again)).toEqual([403, 'account_suspended']);
  });
});

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';

const PASSWORD = 'correct horse battery';

async function register(app: FastifyInstance, username: string, extra: Record<string, unknown> = {}) {
  return app.inject({ method: 'POST', url: '/api/auth/register', payload: { username, password: PASSWORD, ...extra } });
}

async function createInvite(app: FastifyInstance, token: string, body: Record<string, unknown> = {}) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/admin/invites',
    headers: { authorization: `Bearer ${token}` },
    payload: body,
  });
  expect(res.statusCode).toBe(201);
  return res.json().code as string;
}

describe.each(DIALECTS)('registration and sign-in on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let ownerToken: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    app = t.app;
  });
  afterAll(() => t.close());

  it('makes the first account the owner without an invite', async () => {
    const res = await register(app, 'Alice', { display_name: 'Alice A.', email: 'alice@example.org' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.user).toMatchObject({
      username: 'Alice',
      display_name: 'Alice A.',
      instance_role: 'owner',
      totp_enabled: false,
    });
    expect(body.recovery_code).toMatch(/^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$/);
    expect(body.access_token.split('.')).toHaveLength(3);
    expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.user).not.toHaveProperty('password_hash');
    ownerToken = body.access_token;
  });

  it('needs an invite for everyone after the first (invite_only by default)', async () => {
    const res = await register(app, 'bob');
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('invite_required');
  });

  it('accepts a valid invite once when it has one use, then refuses it', async () => {
    const code = await createInvite(app, ownerToken, { max_uses: 1 });
    const ok = await register(app, 'bob', { invite_code: code });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().user.instance_role).toBe('user');
    const again = await register(app, 'carol', { invite_code: code });
    expect(again.json().error.code).toBe('invalid_invite');
    const bogus = await register(app, 'carol', { invite_code: 'nope-nope-nope' });
    expect(bogus.json().error.code).toBe('invalid_invite');
  });

  it('treats usernames case-insensitively and refuses common passwords', async () => {
    const code = await createInvite(app, ownerToken);
    const dup = await register(app, 'ALICE', { invite_code: code });
    expect([dup.statusCode, dup.json().error.code]).toEqual([409, 'username_taken']);
    const weak = await app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { username: 'dave', password: 'password123', invite_code: code },
    });
    expect([weak.statusCode, weak.json().error.code]).toEqual([400, 'weak_password']);
  });

  it('signs in without signing out other devices, and lists both sessions', async () => {
    const a = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'bob', password: PASSWORD },
    });
    const b = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'BOB', password: PASSWORD },
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' },
    });
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    const list = await app.inject({
      method: 'GET',
      url: '/api/account/sessions',
      headers: { authorization: `Bearer ${a.json().access_token}` },
    });
    const sessions = list.json().sessions as { device_name: string; current: boolean }[];
    expect(sessions.length).toBe(3); // registration + two sign-ins
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    expect(sessions.map((s) => s.device_name)).toContain('Firefox on Linux');
  });

  it('answers an unknown user and a wrong password identically', async () => {
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'nobody', password: PASSWORD },
    });
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'bob', password: 'wrong password!' },
    });
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.body).toBe(wrong.body);
  });
});

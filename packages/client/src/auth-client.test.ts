import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, AuthClient, MemoryTokenStore, type SignedOutReason, type TokenStore } from './index.js';

/**
 * A small fake of the accounts API on a real HTTP server (ephemeral port): single-use refresh
 * tokens whose reuse revokes the session, access tokens the test can expire, and an account
 * with two-factor authentication.
 */
class FakeAccounts {
  private counter = 0;
  /** refresh token → session id, for tokens not yet used. */
  refreshTokens = new Map<string, string>();
  usedRefreshTokens = new Map<string, string>();
  revokedSessions = new Set<string>();
  /** access token → session id; `expired` ones answer token_expired. */
  accessTokens = new Map<string, string>();
  expired = new Set<string>();
  refreshCalls = 0;
  /** Delays refresh answers so that concurrent callers overlap. */
  refreshDelayMs = 30;
  log: string[] = [];

  issue(sessionId: string) {
    const n = ++this.counter;
    const access = `access-${n}`;
    const refresh = `refresh-${n}`;
    this.accessTokens.set(access, sessionId);
    this.refreshTokens.set(refresh, sessionId);
    return { access_token: access, refresh_token: refresh, expires_in: 900 };
  }

  expireAllAccessTokens() {
    for (const token of this.accessTokens.keys()) this.expired.add(token);
  }

  async handle(method: string, url: string, auth: string | undefined, body: Record<string, unknown>) {
    this.log.push(`${method} ${url}`);
    const error = (status: number, code: string, message = code, headers: Record<string, string> = {}) => ({
      status,
      body: { error: { code, message } },
      headers,
    });
    const ok = (body: unknown, status = 200) => ({ status, body, headers: {} });

    if (url === '/api/auth/register' && method === 'POST') {
      return ok(
        { user: user(String(body.username)), ...this.issue(`s${this.counter}`), recovery_code: 'ABCD-EFGH-JKLM-NPQR' },
        201,
      );
    }
    if (url === '/api/auth/login' && method === 'POST') {
      if (body.password !== 'correct horse') return error(401, 'invalid_credentials', 'Wrong username or password');
      if (body.username === 'limited') return error(429, 'rate_limited', 'Too many requests', { 'retry-after': '12' });
      if (body.username === 'twofa') {
        if (body.totp_code === undefined) return error(401, 'totp_required', 'Enter the code');
        if (body.totp_code !== '123456') return error(401, 'invalid_totp', 'The two-factor code is not valid');
      }
      return ok({ user: user(String(body.username)), ...this.issue(`s${this.counter + 1}`) });
    }
    if (url === '/api/auth/refresh' && method === 'POST') {
      this.refreshCalls++;
      await new Promise((resolve) => setTimeout(resolve, this.refreshDelayMs));
      const token = String(body.refresh_token);
      const reused = this.usedRefreshTokens.get(token);
      if (reused) {
        this.revokedSessions.add(reused);
        return error(401, 'invalid_token', 'The refresh token was already used; the session has been signed out');
      }
      const sessionId = this.refreshTokens.get(token);
      if (!sessionId || this.revokedSessions.has(sessionId)) return error(401, 'invalid_token', 'Sign in again');
      this.refreshTokens.delete(token);
      this.usedRefreshTokens.set(token, sessionId);
      return ok(this.issue(sessionId));
    }
    if (url === '/api/auth/recover' && method === 'POST') {
      if (body.recovery_code !== 'ABCD-EFGH-JKLM-NPQR') return error(401, 'invalid_credentials');
      if (body.username === 'twofa' && body.totp_code === undefined) return error(401, 'totp_required', 'Code too');
      return ok({ recovery_code: 'WXYZ-WXYZ-WXYZ-WXYZ' });
    }

    // Everything else needs a valid access token.
    const token = auth?.replace(/^Bearer /, '');
    const sessionId = token ? this.accessTokens.get(token) : undefined;
    if (!token || !sessionId) return error(401, 'unauthorized', 'Sign in first');
    if (this.expired.has(token)) return error(401, 'token_expired', 'The access token has expired; refresh it');
    if (this.revokedSessions.has(sessionId)) return error(401, 'session_revoked', 'This session has been signed out');

    if (url === '/api/account/profile' && method === 'GET') return ok(user('ada'));
    if (url === '/api/auth/logout' && method === 'POST') {
      this.revokedSessions.add(sessionId);
      return { status: 204, body: undefined, headers: {} };
    }
    if (url === '/api/account/sessions' && method === 'GET') {
      return ok({
        sessions: [
          { id: sessionId, device_name: 'Script', ip: '127.0.0.1', created_at: 1, last_used_at: 2, current: true },
        ],
      });
    }
    if (url === '/api/admin/invites' && method === 'POST') {
      return ok(
        {
          code: 'INVITE',
          created_by: 'u1',
          max_uses: body.max_uses ?? null,
          uses: 0,
          expires_at: null,
          revoked: false,
          created_at: 1,
        },
        201,
      );
    }
    return error(404, 'not_found');
  }
}

function user(username: string) {
  return {
    id: `id-${username}`,
    username,
    display_name: username,
    email: null,
    instance_role: 'owner',
    avatar_url: null,
    banner_url: null,
    bio: '',
    pronouns: '',
    custom_status: '',
    presence: 'online',
    totp_enabled: username === 'twofa',
    created_at: 1,
  };
}

describe('AuthClient', () => {
  let server: Server;
  let baseUrl: string;
  let fake: FakeAccounts;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        void fake.handle(req.method ?? 'GET', req.url ?? '', req.headers.authorization, body).then((answer) => {
          if (answer.body === undefined) {
            res.writeHead(answer.status, answer.headers);
            res.end();
            return;
          }
          res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          res.end(JSON.stringify(answer.body));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    fake = new FakeAccounts();
  });

  function client(store: TokenStore = new MemoryTokenStore()) {
    const signedOut: SignedOutReason[] = [];
    const auth = new AuthClient({ baseUrl, tokenStore: store, onSignedOut: (reason) => signedOut.push(reason) });
    return { auth, store, signedOut };
  }

  it('registers, keeps the refresh token in the store and returns the recovery code once', async () => {
    const { auth, store } = client();
    const result = await auth.register({ username: 'ada', password: 'correct horse' });
    expect(result.recoveryCode).toBe('ABCD-EFGH-JKLM-NPQR');
    expect(result.user.username).toBe('ada');
    expect(store.getRefreshToken()).toMatch(/^refresh-/);
    expect(auth.hasAccessToken).toBe(true);
    expect((await auth.account.profile()).username).toBe('ada');
  });

  it('surfaces totp_required as its own outcome, then signs in with the code', async () => {
    const { auth, store } = client();
    const first = await auth.login({ username: 'twofa', password: 'correct horse' });
    expect(first).toEqual({ status: 'totp_required', message: 'Enter the code' });
    expect(store.getRefreshToken()).toBeNull();
    expect(auth.hasAccessToken).toBe(false);

    const wrong = (await auth
      .login({ username: 'twofa', password: 'correct horse', totp_code: '000000' })
      .catch((e: unknown) => e)) as ApiError;
    expect(wrong).toBeInstanceOf(ApiError);
    expect(wrong.code).toBe('invalid_totp');

    const second = await auth.login({ username: 'twofa', password: 'correct horse', totp_code: '123456' });
    expect(second.status).toBe('signed_in');
    expect(second.status === 'signed_in' && second.user.totp_enabled).toBe(true);
    expect(store.getRefreshToken()).toMatch(/^refresh-/);
  });

  it('throws invalid_credentials and rate_limited (with Retry-After) as ApiErrors', async () => {
    const { auth } = client();
    const bad = (await auth.login({ username: 'ada', password: 'nope' }).catch((e: unknown) => e)) as ApiError;
    expect(bad.code).toBe('invalid_credentials');
    const limited = (await auth
      .login({ username: 'limited', password: 'correct horse' })
      .catch((e: unknown) => e)) as ApiError;
    expect([limited.code, limited.retryAfterSecs]).toEqual(['rate_limited', 12]);
  });

  it('recovers with totp_required as an outcome and returns the new recovery code', async () => {
    const { auth } = client();
    const input = { username: 'twofa', recovery_code: 'ABCD-EFGH-JKLM-NPQR', new_password: 'a new password' };
    expect(await auth.recover(input)).toMatchObject({ status: 'totp_required' });
    expect(await auth.recover({ ...input, totp_code: '123456' })).toEqual({
      status: 'recovered',
      recoveryCode: 'WXYZ-WXYZ-WXYZ-WXYZ',
    });
  });

  it('refreshes once for many concurrent calls that meet token_expired, then retries them', async () => {
    const { auth, store } = client();
    await auth.login({ username: 'ada', password: 'correct horse' });
    const firstRefresh = store.getRefreshToken();
    fake.expireAllAccessTokens();

    const results = await Promise.all(Array.from({ length: 6 }, () => auth.account.profile()));
    expect(results.map((u) => u.username)).toEqual(Array(6).fill('ada'));
    expect(fake.refreshCalls).toBe(1);
    expect(fake.revokedSessions.size).toBe(0);
    expect(store.getRefreshToken()).not.toBe(firstRefresh);

    // A later expiry refreshes again, with the rotated token.
    fake.expireAllAccessTokens();
    await Promise.all([auth.account.sessions(), auth.account.profile(), auth.refresh()]);
    expect(fake.refreshCalls).toBe(2);
    expect(fake.revokedSessions.size).toBe(0);
  });

  it('hands out the held access token for the gateway, and a new one when asked for a fresh one', async () => {
    const { auth } = client();
    await auth.login({ username: 'ada', password: 'correct horse' });
    const held = await auth.getAccessToken();
    expect(held).toMatch(/^access-/);
    expect(await auth.getAccessToken({ fresh: false })).toBe(held);
    expect(fake.refreshCalls).toBe(0);
    const fresh = await auth.getAccessToken({ fresh: true });
    expect(fresh).not.toBe(held);
    expect(fake.refreshCalls).toBe(1);

    // With only a stored refresh token (a restart), the first call refreshes.
    const restarted = client(new MemoryTokenStore(`refresh-${fresh.slice('access-'.length)}`));
    expect(await restarted.auth.getAccessToken()).toMatch(/^access-/);
    expect(fake.refreshCalls).toBe(2);
  });

  it('shares one refresh among direct refresh() callers too', async () => {
    const { auth } = client();
    await auth.login({ username: 'ada', password: 'correct horse' });
    const tokens = await Promise.all([auth.refresh(), auth.refresh(), auth.refresh()]);
    expect(new Set(tokens).size).toBe(1);
    expect(fake.refreshCalls).toBe(1);
  });

  it('on a refused refresh, clears the tokens, calls onSignedOut once and fails every waiting call', async () => {
    const { auth, store, signedOut } = client();
    await auth.login({ username: 'ada', password: 'correct horse' });
    fake.revokedSessions.add([...fake.accessTokens.values()][0]!);
    fake.expireAllAccessTokens();

    const outcomes = await Promise.allSettled([auth.account.profile(), auth.account.sessions()]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(((outcomes[0] as PromiseRejectedResult).reason as ApiError).code).toBe('invalid_token');
    expect(fake.refreshCalls).toBe(1);
    expect(signedOut).toEqual(['refresh_failed']);
    expect(store.getRefreshToken()).toBeNull();
    expect(auth.hasAccessToken).toBe(false);
  });

  it('keeps the tokens when the refresh only failed to reach the server', async () => {
    const store = new MemoryTokenStore('refresh-kept');
    const signedOut: SignedOutReason[] = [];
    const auth = new AuthClient({
      baseUrl: 'http://127.0.0.1:1',
      tokenStore: store,
      onSignedOut: (r) => signedOut.push(r),
    });
    await expect(auth.refresh()).rejects.toMatchObject({ code: 'network_error' });
    expect(store.getRefreshToken()).toBe('refresh-kept');
    expect(signedOut).toEqual([]);
  });

  it('signs out when the server says the session was revoked', async () => {
    const { auth, store, signedOut } = client();
    await auth.login({ username: 'ada', password: 'correct horse' });
    fake.revokedSessions.add([...fake.accessTokens.values()][0]!);
    await expect(auth.account.profile()).rejects.toMatchObject({ code: 'session_revoked' });
    expect(signedOut).toEqual(['session_revoked']);
    expect(store.getRefreshToken()).toBeNull();
  });

  it('restores a session from a stored refresh token, and reports none without asking when empty', async () => {
    const first = client();
    await first.auth.login({ username: 'ada', password: 'correct horse' });

    const restored = client(new MemoryTokenStore(first.store.getRefreshToken() as string));
    expect((await restored.auth.restore())?.username).toBe('ada');
    expect(fake.refreshCalls).toBe(1);

    const empty = client();
    const before = fake.log.length;
    expect(await empty.auth.restore()).toBeNull();
    expect(fake.log.length).toBe(before);

    const spent = client(new MemoryTokenStore('refresh-unknown'));
    expect(await spent.auth.restore()).toBeNull();
    expect(spent.store.getRefreshToken()).toBeNull();
  });

  it('serialises refreshes of clients that share a store through withLock, always with the newest token', async () => {
    let chain: Promise<unknown> = Promise.resolve();
    const shared = new MemoryTokenStore();
    const locked: TokenStore = {
      getRefreshToken: () => shared.getRefreshToken(),
      setRefreshToken: (t) => shared.setRefreshToken(t),
      withLock: <T>(fn: () => Promise<T>) => {
        const run = chain.then(fn, fn);
        chain = run.catch(() => undefined);
        return run;
      },
    };
    const tabA = client(locked);
    await tabA.auth.login({ username: 'ada', password: 'correct horse' });
    const tabB = client(locked); // a second tab: same stored token, no access token yet
    await Promise.all([tabA.auth.refresh(), tabB.auth.refresh()]);
    expect(fake.refreshCalls).toBe(2);
    expect(fake.revokedSessions.size).toBe(0);
    expect(tabA.signedOut).toEqual([]);
    expect(tabB.signedOut).toEqual([]);
  });

  it('logs out on the server and forgets the tokens without calling onSignedOut', async () => {
    const { auth, store, signedOut } = client();
    await auth.login({ username: 'ada', password: 'correct horse' });
    await auth.logout();
    expect(fake.log.at(-1)).toBe('POST /api/auth/logout');
    expect(fake.revokedSessions.size).toBe(1);
    expect(store.getRefreshToken()).toBeNull();
    expect(signedOut).toEqual([]);
  });

  it('calls the admin invite API with a validated answer', async () => {
    const { auth } = client();
    await auth.login({ username: 'ada', password: 'correct horse' });
    expect(await auth.admin.createInvite({ max_uses: 3 })).toMatchObject({ code: 'INVITE', max_uses: 3, uses: 0 });
  });
});

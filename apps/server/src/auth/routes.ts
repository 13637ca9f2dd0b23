import {
  LoginRequest,
  LoginResponse,
  RecoverRequest,
  RecoveryCodeResponse,
  RefreshRequest,
  RefreshResponse,
  RegisterRequest,
  RegisterResponse,
} from '@chatalot/protocol';
import { auditSource } from '../audit/audit-log.js';
import type { AuditLog } from '../audit/audit-log.js';
import { addRoute, type RouteContext } from '../http/route.js';
import { toAccountUser } from '../users/view.js';
import type { AccountService } from './account-service.js';
import type { SessionService } from './sessions.js';

export interface AuthRouteDeps {
  accounts: AccountService;
  sessions: SessionService;
  audit: AuditLog;
}

/** Registration, sign-in, token refresh, sign-out and recovery (`/api/auth/…`). */
export function registerAuthRoutes(ctx: RouteContext, deps: AuthRouteDeps): void {
  const tags = ['auth'];

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/auth/register',
      summary: 'Create an account (the first one on an empty instance becomes owner)',
      tags,
      body: RegisterRequest,
      response: RegisterResponse,
      status: 201,
      errors: [400, 403, 409, 429],
      rateLimit: 'auth',
    },
    async ({ body, request }) => {
      const { user, tokens, recoveryCode } = await deps.accounts.register(body, auditSource(request));
      return { user: toAccountUser(user), ...tokens, recovery_code: recoveryCode };
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/auth/login',
      summary: 'Sign in; answers 401 totp_required when a two-factor code is needed',
      tags,
      body: LoginRequest,
      response: LoginResponse,
      errors: [400, 401, 403, 429],
      rateLimit: 'auth',
    },
    async ({ body, request }) => {
      const { user, tokens } = await deps.accounts.login(body, auditSource(request));
      return { user: toAccountUser(user), ...tokens };
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/auth/refresh',
      summary: 'Exchange a refresh token for a new pair (each refresh token works once)',
      tags,
      body: RefreshRequest,
      response: RefreshResponse,
      errors: [400, 401, 403, 429],
      rateLimit: 'auth',
    },
    async ({ body, request }) => deps.sessions.refresh(body.refresh_token, auditSource(request)),
  );

  addRoute(
    ctx,
    { method: 'POST', url: '/api/auth/logout', summary: 'Sign out this session', tags, auth: true },
    async ({ actor, request }) => {
      await deps.sessions.revoke(actor.sessionId, 'logout');
      await deps.audit.record('logout', auditSource(request), { actorId: actor.userId });
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/auth/recover',
      summary: 'Reset a forgotten password with the recovery code; signs out every session',
      tags,
      body: RecoverRequest,
      response: RecoveryCodeResponse,
      errors: [400, 401, 429],
      rateLimit: 'auth',
    },
    async ({ body, request }) => ({ recovery_code: await deps.accounts.recover(body, auditSource(request)) }),
  );
}

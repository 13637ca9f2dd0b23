import {
  AccountUser,
  BackupCodesResponse,
  ChangePasswordRequest,
  DeleteAccountRequest,
  PasswordConfirmation,
  Preferences,
  ProfileUpdate,
  RecoveryCodeResponse,
  SessionList,
  TotpConfirmRequest,
  TotpEnableRequest,
  TotpSetupResponse,
} from '@chatalot/protocol';
import { z } from 'zod';
import { auditSource, type AuditLog } from '../audit/audit-log.js';
import type { AccountService } from '../auth/account-service.js';
import type { SecondFactor } from '../auth/second-factor.js';
import type { SessionService } from '../auth/sessions.js';
import { isUniqueViolation } from '../db/errors.js';
import { AppError, badRequest } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import type { UsersRepo } from '../users/repo.js';
import { toAccountUser } from '../users/view.js';

export interface AccountRouteDeps {
  accounts: AccountService;
  sessions: SessionService;
  secondFactor: SecondFactor;
  users: UsersRepo;
  audit: AuditLog;
  now?: () => number;
  /** Announces a changed status live (the gateway's presence), as `presence.set` on a socket does. */
  presenceChanged?: (userId: string, status: 'online' | 'idle' | 'dnd' | 'invisible') => Promise<void>;
}

const PREFERENCES_MAX_BYTES = 16 * 1024;

/** The signed-in user's own account (`/api/account/…`): sessions, password, 2FA, profile. */
export function registerAccountRoutes(ctx: RouteContext, deps: AccountRouteDeps): void {
  const now = deps.now ?? Date.now;
  const tags = ['account'];
  const sessionId = z.object({ id: z.string().min(1).max(64) });

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/account/sessions',
      summary: 'List signed-in sessions',
      tags,
      auth: true,
      response: SessionList,
    },
    async ({ actor }) => {
      const sessions = await deps.sessions.list(actor.userId);
      return { sessions: sessions.map((s) => ({ ...s, current: s.id === actor.sessionId })) };
    },
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/account/sessions/:id',
      summary: 'Sign out one session',
      tags,
      auth: true,
      params: sessionId,
      errors: [404],
    },
    async ({ actor, params, request }) => {
      await deps.sessions.revokeOwn(actor.userId, params.id);
      await deps.audit.record('session_revoked', auditSource(request), {
        actorId: actor.userId,
        details: { session_id: params.id },
      });
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/account/logout-all',
      summary: 'Sign out every session, this one included',
      tags,
      auth: true,
    },
    async ({ actor, request }) => {
      const count = await deps.sessions.revokeAll(actor.userId, 'logout_all');
      await deps.audit.record('logout_all', auditSource(request), {
        actorId: actor.userId,
        details: { sessions_revoked: count },
      });
    },
  );

  addRoute(
    ctx,
    {
      method: 'PUT',
      url: '/api/account/password',
      summary: 'Change the password; signs out the other sessions',
      tags,
      auth: true,
      body: ChangePasswordRequest,
      errors: [400, 401],
      rateLimit: 'auth',
    },
    async ({ actor, body, request }) => {
      await deps.accounts.changePassword(actor, body.current_password, body.new_password, auditSource(request));
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/account/recovery-code',
      summary: 'Replace the recovery code (the old one stops working)',
      tags,
      auth: true,
      body: PasswordConfirmation,
      response: RecoveryCodeResponse,
      errors: [400, 401],
      rateLimit: 'auth',
    },
    async ({ actor, body, request }) => ({
      recovery_code: await deps.accounts.regenerateRecoveryCode(actor.userId, body.password, auditSource(request)),
    }),
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/account/totp/setup',
      summary: 'Start two-factor setup',
      tags,
      auth: true,
      response: TotpSetupResponse,
      errors: [400],
    },
    async ({ actor }) => deps.secondFactor.beginSetup(await deps.accounts.requireUser(actor.userId)),
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/account/totp/enable',
      summary: 'Confirm two-factor setup with a code; returns 8 single-use backup codes',
      tags,
      auth: true,
      body: TotpEnableRequest,
      response: BackupCodesResponse,
      errors: [400, 401],
      rateLimit: 'auth',
    },
    async ({ actor, body, request }) => ({
      backup_codes: await deps.secondFactor.enable(
        await deps.accounts.requireUser(actor.userId),
        body.code,
        auditSource(request),
      ),
    }),
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/account/totp/disable',
      summary: 'Turn two-factor authentication off (password and a current code)',
      tags,
      auth: true,
      body: TotpConfirmRequest,
      errors: [400, 401],
      rateLimit: 'auth',
    },
    async ({ actor, body, request }) => {
      const user = await confirmWithSecondFactor(deps, actor.userId, body, auditSource(request));
      await deps.secondFactor.disable(user, auditSource(request));
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/account/totp/backup-codes',
      summary: 'Replace the backup codes (password and a current code)',
      tags,
      auth: true,
      body: TotpConfirmRequest,
      response: BackupCodesResponse,
      errors: [400, 401],
      rateLimit: 'auth',
    },
    async ({ actor, body, request }) => {
      const user = await confirmWithSecondFactor(deps, actor.userId, body, auditSource(request));
      const codes = await deps.secondFactor.replaceBackupCodes(user.id);
      await deps.audit.record('backup_codes_regenerated', auditSource(request), { actorId: user.id });
      return { backup_codes: codes };
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/account/profile',
      summary: 'The signed-in account',
      tags,
      auth: true,
      response: AccountUser,
    },
    async ({ actor }) => toAccountUser(await deps.accounts.requireUser(actor.userId)),
  );

  addRoute(
    ctx,
    {
      method: 'PATCH',
      url: '/api/account/profile',
      summary: 'Update display name, bio, pronouns, status, presence or email',
      tags,
      auth: true,
      body: ProfileUpdate,
      response: AccountUser,
      errors: [400, 409],
    },
    async ({ actor, body }) => {
      if (body.email && (await deps.users.emailTaken(body.email, actor.userId))) {
        throw new AppError('email_taken', 'That email address is already used');
      }
      const { email, ...rest } = body;
      const emailChange = email === undefined ? {} : { email, email_lower: email?.toLowerCase() ?? null };
      try {
        await deps.users.update(actor.userId, { ...rest, ...emailChange, updated_at: now() });
      } catch (err) {
        // Two accounts claiming one address at the same moment: the unique index decides.
        if (isUniqueViolation(err)) throw new AppError('email_taken', 'That email address is already used');
        throw err;
      }
      if (body.presence !== undefined) await deps.presenceChanged?.(actor.userId, body.presence);
      return toAccountUser(await deps.accounts.requireUser(actor.userId));
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/account/preferences',
      summary: 'Synced client preferences',
      tags,
      auth: true,
      response: Preferences,
    },
    async ({ actor }) =>
      JSON.parse((await deps.accounts.requireUser(actor.userId)).preferences) as Record<string, unknown>,
  );

  addRoute(
    ctx,
    {
      method: 'PUT',
      url: '/api/account/preferences',
      summary: 'Merge preferences (top-level keys; null removes a key); ≤16 KB in all',
      tags,
      auth: true,
      body: Preferences,
      response: Preferences,
      errors: [400, 413],
    },
    async ({ actor, body }) => {
      const current = JSON.parse((await deps.accounts.requireUser(actor.userId)).preferences) as Record<
        string,
        unknown
      >;
      const merged: Record<string, unknown> = { ...current };
      for (const [key, value] of Object.entries(body)) {
        if (value === null) delete merged[key];
        else merged[key] = value;
      }
      const serialized = JSON.stringify(merged);
      if (Buffer.byteLength(serialized) > PREFERENCES_MAX_BYTES) {
        throw new AppError('payload_too_large', 'Preferences are limited to 16 KB');
      }
      await deps.users.update(actor.userId, { preferences: serialized, updated_at: now() });
      return merged;
    },
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/account',
      summary: 'Delete the account (password, and a code when two-factor is on)',
      tags,
      auth: true,
      body: DeleteAccountRequest,
      errors: [400, 401, 403],
      rateLimit: 'auth',
    },
    async ({ actor, body, request }) => {
      await deps.accounts.deleteAccount(actor.userId, body.password, body.totp_code, auditSource(request));
    },
  );
}

/** Password plus a current TOTP/backup code, for changes to two-factor itself. */
async function confirmWithSecondFactor(
  deps: AccountRouteDeps,
  userId: string,
  body: { password: string; code: string },
  source: ReturnType<typeof auditSource>,
) {
  const user = await deps.accounts.requireUser(userId);
  if (user.totp_enabled_at === null) throw badRequest('Two-factor authentication is not on');
  await deps.accounts.requirePassword(user, body.password);
  await deps.secondFactor.verify(user, body.code, source);
  return user;
}

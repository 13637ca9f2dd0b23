import {
  AccountUser,
  AuditPage,
  BackupCodesResponse,
  LoginResponse,
  Preferences,
  RecoveryCodeResponse,
  RefreshResponse,
  RegisterResponse,
  RegistrationInvite,
  RegistrationInviteList,
  SessionList,
  TotpSetupResponse,
  type ChangePasswordRequest,
  type CreateRegistrationInvite,
  type DeleteAccountRequest,
  type LoginRequest,
  type ProfileUpdate,
  type RecoverRequest,
  type RegisterRequest,
  type SessionInfo,
  type TotpConfirmRequest,
} from '@chatalot/protocol';
import type { z } from 'zod';
import { ApiError } from './api-error.js';
import { HttpClient, type RequestOptions } from './http-client.js';
import { MessagesApi } from './messages-api.js';
import { MemoryTokenStore, type TokenStore } from './token-store.js';

export type AccountUser = z.infer<typeof AccountUser>;
export type SessionInfo = z.infer<typeof SessionInfo>;
export type RegistrationInvite = z.infer<typeof RegistrationInvite>;
export type AuditPage = z.infer<typeof AuditPage>;
export type Preferences = z.infer<typeof Preferences>;
export type RegisterInput = z.input<typeof RegisterRequest>;
export type LoginInput = Omit<z.input<typeof LoginRequest>, 'device_name'> & { device_name?: string };
export type RecoverInput = z.input<typeof RecoverRequest>;
export type ProfileUpdate = z.input<typeof ProfileUpdate>;
export type ChangePasswordInput = z.input<typeof ChangePasswordRequest>;
export type TotpConfirmInput = z.input<typeof TotpConfirmRequest>;
export type DeleteAccountInput = z.input<typeof DeleteAccountRequest>;
export type CreateInviteInput = z.input<typeof CreateRegistrationInvite>;
export interface AuditQueryInput {
  action?: string;
  user_id?: string;
  from?: number;
  to?: number;
  cursor?: string;
  limit?: number;
}

/** The outcome of a sign-in: either signed in, or the account has 2FA and a code is needed. */
export type LoginOutcome = { status: 'signed_in'; user: AccountUser } | { status: 'totp_required'; message: string };

/** The outcome of a recovery: the new recovery code (shown once), or a 2FA code is needed. */
export type RecoverOutcome =
  { status: 'recovered'; recoveryCode: string } | { status: 'totp_required'; message: string };

/** Why the client signed out by itself (never called for an explicit `logout`). */
export type SignedOutReason = 'refresh_failed' | 'session_revoked';

export interface AuthClientOptions {
  /** Server origin, e.g. `https://chat.example.org`; empty for same-origin (the web app). */
  baseUrl: string;
  /** Where the refresh token is kept; in memory by default. */
  tokenStore?: TokenStore;
  fetch?: typeof fetch;
  /** Called when the session ended on its own: a refresh failed, or the server revoked it. */
  onSignedOut?: (reason: SignedOutReason, error: ApiError) => void;
  /** Called after every successful sign-in, registration or refresh. */
  onTokens?: (tokens: { accessToken: string; expiresIn: number }) => void;
}

/** Answers that mean the refresh token (or the whole session) is gone for good. */
const TERMINAL_REFRESH_ERRORS = new Set(['invalid_token', 'session_revoked', 'account_suspended', 'unauthorized']);
/** Answers to an authenticated call that mean this session no longer exists. */
const SIGNED_OUT_ERRORS = new Set(['session_revoked', 'account_suspended']);

/**
 * Accounts and sessions on top of HttpClient. The access token is held in memory only; the
 * refresh token lives in the TokenStore. An authenticated call that fails with `token_expired`
 * refreshes once and is retried; concurrent callers share one refresh (refresh tokens are single
 * use). When a refresh fails for good, the tokens are cleared and `onSignedOut` is called.
 */
export class AuthClient {
  readonly http: HttpClient;
  readonly account: AccountApi;
  readonly admin: AdminApi;
  readonly messages: MessagesApi;
  private readonly store: TokenStore;
  private accessToken: string | undefined;
  /** When the held access token expires (ms, local clock), from the `expires_in` it came with. */
  private accessExpiresAt = 0;
  private refreshing: Promise<string> | null = null;
  /** Set while signing out on purpose: failures then do not call `onSignedOut`. */
  private quiet = false;

  constructor(private readonly options: AuthClientOptions) {
    this.store = options.tokenStore ?? new MemoryTokenStore();
    this.http = new HttpClient({
      baseUrl: options.baseUrl,
      getAccessToken: () => this.accessToken,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.account = new AccountApi(this);
    this.admin = new AdminApi(this);
    this.messages = new MessagesApi(this);
  }

  /** True while an access token is held (it may have expired; calls refresh it). */
  get hasAccessToken(): boolean {
    return this.accessToken !== undefined;
  }

  /** Creates an account and signs in. The recovery code is returned once: show it to the person. */
  async register(input: RegisterInput): Promise<{ user: AccountUser; recoveryCode: string }> {
    const res = await this.http.request('/api/auth/register', {
      method: 'POST',
      body: input,
      response: RegisterResponse,
    });
    await this.acceptTokens(res);
    return { user: res.user, recoveryCode: res.recovery_code };
  }

  /**
   * Signs in. When the account has two-factor authentication and no code was given (the server
   * answers `totp_required`), resolves to `{ status: 'totp_required' }` so the caller can ask for
   * the code and call again with `totp_code`. Other failures throw ApiError (`invalid_credentials`,
   * `invalid_totp`, `rate_limited` with `retryAfterSecs`, …).
   */
  async login(input: LoginInput): Promise<LoginOutcome> {
    try {
      const res = await this.http.request('/api/auth/login', { method: 'POST', body: input, response: LoginResponse });
      await this.acceptTokens(res);
      return { status: 'signed_in', user: res.user };
    } catch (err) {
      if (err instanceof ApiError && err.code === 'totp_required')
        return { status: 'totp_required', message: err.message };
      throw err;
    }
  }

  /**
   * Resets a forgotten password with the recovery code. Every session of the account is signed
   * out (this client included); the new recovery code is returned once.
   */
  async recover(input: RecoverInput): Promise<RecoverOutcome> {
    try {
      const res = await this.http.request('/api/auth/recover', {
        method: 'POST',
        body: input,
        response: RecoveryCodeResponse,
      });
      await this.clearTokens();
      return { status: 'recovered', recoveryCode: res.recovery_code };
    } catch (err) {
      if (err instanceof ApiError && err.code === 'totp_required')
        return { status: 'totp_required', message: err.message };
      throw err;
    }
  }

  /** Signs this session out on the server (best effort) and forgets the tokens. */
  async logout(): Promise<void> {
    this.quiet = true;
    try {
      if (this.accessToken || (await this.store.getRefreshToken())) {
        await this.authed('/api/auth/logout', { method: 'POST' });
      }
    } catch {
      // Already signed out or unreachable: the local tokens go either way.
    } finally {
      this.quiet = false;
      await this.clearTokens();
    }
  }

  /** Forgets the tokens locally without asking the server (after the session ended there). */
  forget(): Promise<void> {
    return this.clearTokens();
  }

  /**
   * Exchanges the stored refresh token for a new pair and returns the access token. Concurrent
   * callers share one request. Throws ApiError; when the token is refused, the tokens are
   * cleared and `onSignedOut('refresh_failed')` is called. A network failure keeps them.
   */
  refresh(): Promise<string> {
    this.refreshing ??= this.runRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /**
   * An access token for other transports (the WebSocket gateway signs in with one): the one
   * held while it has more than 30 s left, otherwise a new one. `fresh` always gets a new one
   * (the server refused the held one, or it is about to expire). Throws like `refresh`.
   */
  async getAccessToken(options: { fresh?: boolean } = {}): Promise<string> {
    if (!options.fresh && this.accessToken && Date.now() < this.accessExpiresAt - 30_000) return this.accessToken;
    return this.refresh();
  }

  /**
   * Restores a session on start: when a refresh token is stored, refreshes and returns the
   * signed-in user; otherwise (or when the token is refused) returns null.
   */
  async restore(): Promise<AccountUser | null> {
    if (!(await this.store.getRefreshToken())) return null;
    try {
      await this.refresh();
    } catch (err) {
      if (err instanceof ApiError && TERMINAL_REFRESH_ERRORS.has(err.code)) return null;
      throw err;
    }
    return this.account.profile();
  }

  /**
   * An authenticated request: gets an access token first when only a refresh token is held, and
   * refreshes once and retries when the server says `token_expired`.
   */
  async authed<S extends z.ZodType>(path: string, options: RequestOptions<S> = {}): Promise<z.output<S>> {
    if (!this.accessToken) await this.refresh();
    const used = this.accessToken;
    try {
      return await this.http.request(path, options);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === 'token_expired') {
        // Another call may already have refreshed while this one was in flight.
        if (this.accessToken === used) await this.refresh();
        return this.http.request(path, options).catch((retryErr: unknown) => this.signOutOn(retryErr));
      }
      return this.signOutOn(err);
    }
  }

  private async signOutOn(err: unknown): Promise<never> {
    if (err instanceof ApiError && SIGNED_OUT_ERRORS.has(err.code)) {
      await this.clearTokens();
      if (!this.quiet) this.options.onSignedOut?.('session_revoked', err);
    }
    throw err;
  }

  private async runRefresh(): Promise<string> {
    const exchange = async (): Promise<string> => {
      const token = await this.store.getRefreshToken();
      if (!token) throw new ApiError('unauthorized', 'Not signed in', 401);
      const res = await this.http.request('/api/auth/refresh', {
        method: 'POST',
        body: { refresh_token: token },
        response: RefreshResponse,
      });
      await this.acceptTokens(res);
      return res.access_token;
    };
    try {
      return await (this.store.withLock ? this.store.withLock(exchange) : exchange());
    } catch (err) {
      if (err instanceof ApiError && TERMINAL_REFRESH_ERRORS.has(err.code)) {
        const hadSession = this.accessToken !== undefined || err.code !== 'unauthorized';
        await this.clearTokens();
        if (hadSession && !this.quiet) this.options.onSignedOut?.('refresh_failed', err);
      }
      throw err;
    }
  }

  private async acceptTokens(tokens: { access_token: string; refresh_token: string; expires_in: number }) {
    this.accessToken = tokens.access_token;
    this.accessExpiresAt = Date.now() + tokens.expires_in * 1000;
    await this.store.setRefreshToken(tokens.refresh_token);
    this.options.onTokens?.({ accessToken: tokens.access_token, expiresIn: tokens.expires_in });
  }

  private async clearTokens(): Promise<void> {
    this.accessToken = undefined;
    this.accessExpiresAt = 0;
    await this.store.setRefreshToken(null);
  }
}

/** The signed-in user's own account: sessions, password, recovery code, 2FA, profile. */
export class AccountApi {
  constructor(private readonly auth: AuthClient) {}

  async sessions(): Promise<SessionInfo[]> {
    return (await this.auth.authed('/api/account/sessions', { response: SessionList })).sessions;
  }

  /** Signs out one session (revoking the current one signs this client out on its next call). */
  async revokeSession(id: string): Promise<void> {
    await this.auth.authed(`/api/account/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** Signs out every session, this one included, and forgets the local tokens. */
  async logoutAll(): Promise<void> {
    await this.auth.authed('/api/account/logout-all', { method: 'POST' });
    await this.auth.forget();
  }

  /** Changes the password; the other sessions are signed out. `weak_password` when refused. */
  async changePassword(input: ChangePasswordInput): Promise<void> {
    await this.auth.authed('/api/account/password', { method: 'PUT', body: input });
  }

  /** Replaces the recovery code (the old one stops working); returns the new one, once. */
  async regenerateRecoveryCode(password: string): Promise<string> {
    const res = await this.auth.authed('/api/account/recovery-code', {
      method: 'POST',
      body: { password },
      response: RecoveryCodeResponse,
    });
    return res.recovery_code;
  }

  /** Starts two-factor setup: the secret and the otpauth:// URL to show as a QR code. */
  totpSetup(): Promise<{ secret: string; otpauth_url: string }> {
    return this.auth.authed('/api/account/totp/setup', { method: 'POST', response: TotpSetupResponse });
  }

  /** Confirms setup with a current code; returns the 8 single-use backup codes, once. */
  async totpEnable(code: string): Promise<string[]> {
    const res = await this.auth.authed('/api/account/totp/enable', {
      method: 'POST',
      body: { code },
      response: BackupCodesResponse,
    });
    return res.backup_codes;
  }

  async totpDisable(input: TotpConfirmInput): Promise<void> {
    await this.auth.authed('/api/account/totp/disable', { method: 'POST', body: input });
  }

  async regenerateBackupCodes(input: TotpConfirmInput): Promise<string[]> {
    const res = await this.auth.authed('/api/account/totp/backup-codes', {
      method: 'POST',
      body: input,
      response: BackupCodesResponse,
    });
    return res.backup_codes;
  }

  profile(): Promise<AccountUser> {
    return this.auth.authed('/api/account/profile', { response: AccountUser });
  }

  updateProfile(update: ProfileUpdate): Promise<AccountUser> {
    return this.auth.authed('/api/account/profile', { method: 'PATCH', body: update, response: AccountUser });
  }

  preferences(): Promise<Preferences> {
    return this.auth.authed('/api/account/preferences', { response: Preferences });
  }

  /** Merges top-level keys (`null` removes a key); returns the merged preferences. */
  updatePreferences(update: Preferences): Promise<Preferences> {
    return this.auth.authed('/api/account/preferences', { method: 'PUT', body: update, response: Preferences });
  }

  /** Deletes the account for good and forgets the local tokens. */
  async deleteAccount(input: DeleteAccountInput): Promise<void> {
    await this.auth.authed('/api/account', { method: 'DELETE', body: input });
    await this.auth.forget();
  }
}

/** Instance administration (owners and admins): registration invites and the audit log. */
export class AdminApi {
  constructor(private readonly auth: AuthClient) {}

  createInvite(input: CreateInviteInput = {}): Promise<RegistrationInvite> {
    return this.auth.authed('/api/admin/invites', { method: 'POST', body: input, response: RegistrationInvite });
  }

  async listInvites(): Promise<RegistrationInvite[]> {
    return (await this.auth.authed('/api/admin/invites', { response: RegistrationInviteList })).invites;
  }

  async revokeInvite(code: string): Promise<void> {
    await this.auth.authed(`/api/admin/invites/${encodeURIComponent(code)}`, { method: 'DELETE' });
  }

  auditLog(query: AuditQueryInput = {}): Promise<AuditPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const qs = params.toString();
    return this.auth.authed(`/api/admin/audit-log${qs ? `?${qs}` : ''}`, { response: AuditPage });
  }
}

/**
 * The signed-in state of the web app. One AuthClient (from @chatalot/client) talks to the same
 * origin; the access token stays in its memory, the refresh token in localStorage. On start a
 * stored refresh token is exchanged for an access token (restore); other tabs are kept in step
 * through the Web Locks API (one refresh at a time across tabs) and the `storage` event.
 */
import { ApiError, AuthClient, type AccountUser, type TokenStore } from '@chatalot/client';

export const REFRESH_TOKEN_KEY = 'chatalot.refresh_token';
const LOCK_NAME = 'chatalot.refresh';

/** The refresh token in localStorage, with a cross-tab lock around refreshes. */
class LocalStorageTokenStore implements TokenStore {
  private fallback: string | null = null;

  getRefreshToken(): string | null {
    try {
      return localStorage.getItem(REFRESH_TOKEN_KEY);
    } catch {
      return this.fallback;
    }
  }

  setRefreshToken(token: string | null): void {
    this.fallback = token;
    try {
      if (token === null) localStorage.removeItem(REFRESH_TOKEN_KEY);
      else localStorage.setItem(REFRESH_TOKEN_KEY, token);
    } catch {
      // Storage blocked: the session lasts for this page only.
    }
  }

  withLock<T>(fn: () => Promise<T>): Promise<T> {
    if (typeof navigator === 'undefined' || !navigator.locks) return fn();
    return navigator.locks.request(LOCK_NAME, fn) as Promise<T>;
  }
}

export type SessionStatus = 'loading' | 'signed_in' | 'signed_out';

class Session {
  user = $state<AccountUser | null>(null);
  status = $state<SessionStatus>('loading');
  /** Why the app signed out by itself, shown once on the sign-in screen. */
  notice = $state<string | null>(null);
  /** Set when the stored session could not be checked because the server was unreachable. */
  offline = $state(false);

  readonly client = new AuthClient({
    baseUrl: '',
    tokenStore: new LocalStorageTokenStore(),
    onSignedOut: (reason) => {
      this.notice =
        reason === 'session_revoked'
          ? 'This session was signed out (from another device, or after a password change). Sign in again.'
          : 'Your session has ended. Sign in again.';
      this.setUser(null);
    },
  });

  private restoring: Promise<void> | null = null;

  get isAdmin(): boolean {
    return this.user?.instance_role === 'owner' || this.user?.instance_role === 'admin';
  }

  /** Restores the stored session once (later calls share the first). */
  init(): Promise<void> {
    this.restoring ??= this.restore();
    return this.restoring;
  }

  private async restore(): Promise<void> {
    try {
      this.setUser(await this.client.restore());
      this.offline = false;
    } catch (err) {
      this.offline = err instanceof ApiError && err.code === 'network_error';
      this.setUser(null);
    }
  }

  /** Follows sign-in and sign-out made in another tab. */
  watchOtherTabs(): () => void {
    const onStorage = (event: StorageEvent) => {
      if (event.key !== REFRESH_TOKEN_KEY && event.key !== null) return;
      if (event.newValue === null && this.status === 'signed_in') {
        void this.client.forget();
        this.setUser(null);
      } else if (event.newValue !== null && this.status === 'signed_out') {
        this.restoring = this.restore();
      }
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }

  setUser(user: AccountUser | null): void {
    this.user = user;
    this.status = user ? 'signed_in' : 'signed_out';
    if (user) this.notice = null;
  }

  async logout(): Promise<void> {
    await this.client.logout();
    this.notice = null;
    this.setUser(null);
  }
}

/** The app's one session. */
export const session = new Session();

/** A same-origin path to return to after signing in (never another origin). */
export function safeNext(value: string | null): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  return value;
}

/**
 * Where the refresh token lives between runs. The access token never goes here: it stays in
 * memory inside the AuthClient. Implementations may be synchronous or asynchronous.
 *
 * Refresh tokens are single use (a reused one signs the whole session out), so when several
 * processes or browser tabs share one store, `withLock` must run its callback exclusively across
 * them (the web app uses the Web Locks API). The AuthClient re-reads the token inside the lock,
 * so a tab that refreshes after another one uses the newest token instead of a spent one.
 */
export interface TokenStore {
  getRefreshToken(): string | null | Promise<string | null>;
  /** Stores a new refresh token; `null` removes it (signed out). */
  setRefreshToken(token: string | null): void | Promise<void>;
  /** Runs `fn` exclusively among every user of this store. Optional: single process by default. */
  withLock?<T>(fn: () => Promise<T>): Promise<T>;
}

/** Keeps the refresh token in memory only: for Node, bots and tests. */
export class MemoryTokenStore implements TokenStore {
  constructor(private token: string | null = null) {}

  getRefreshToken(): string | null {
    return this.token;
  }

  setRefreshToken(token: string | null): void {
    this.token = token;
  }
}

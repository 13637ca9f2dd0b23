import { createHash } from 'node:crypto';

/** Default cap on remembered tokens: a few MB at most, far above the tokens live at once on one process. */
export const VERIFIED_TOKENS_MAX = 10_000;

/** What a verified token proved, with the window (epoch seconds, as in the JWT) in which it holds. */
export interface VerifiedToken<C> {
  claims: C;
  /** `exp`: valid while the current second is below it. */
  exp: number;
  /** `nbf` if the token had one: valid once the current second reaches it. */
  nbf?: number | undefined;
}

/**
 * Access tokens whose signature and claims have already been verified, so each token's
 * Ed25519 signature is checked once rather than on every request it authorizes. Only the
 * token itself is vouched for: sessions, suspensions and roles are still read from the
 * database on every request (see Authenticator), so revocation takes effect as before.
 *
 * An entry answers only while its token is valid by the clock, with jose's own rules
 * (`exp <= now` is expired, `nbf > now` is not yet valid, in whole seconds); outside that
 * window the caller verifies afresh and gets exactly the error it would have got anyway.
 *
 * Entries are keyed by the SHA-256 of the token, so neither the tokens nor a timing
 * difference in comparing them (Map lookups are not constant-time) can reveal a usable token.
 * Only verified tokens are stored, so a client sending garbage cannot fill the cache; its size
 * is capped regardless, evicting the oldest entries first.
 */
export class VerifiedTokens<C> {
  private readonly entries = new Map<string, VerifiedToken<C>>();

  constructor(private readonly maxEntries = VERIFIED_TOKENS_MAX) {
    if (!(maxEntries >= 1)) throw new RangeError('maxEntries must be >= 1');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The claims of `token` if it was verified before and is valid at `nowMs`. */
  get(token: string, nowMs: number): C | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (!isValidAt(entry, nowMs)) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.claims;
  }

  /** Remembers a token that has just passed full verification. */
  add(token: string, entry: VerifiedToken<C>, nowMs: number): void {
    if (!isValidAt(entry, nowMs)) return;
    this.sweepExpired(nowMs);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(keyOf(token), entry);
  }

  /**
   * Drops expired entries from the front. Tokens are issued with one lifetime, so insertion
   * order is close to expiry order and this stops at the first live entry (amortised O(1)).
   */
  private sweepExpired(nowMs: number): void {
    const now = epochSeconds(nowMs);
    for (const [key, entry] of this.entries) {
      if (entry.exp > now) break;
      this.entries.delete(key);
    }
  }
}

function isValidAt(entry: VerifiedToken<unknown>, nowMs: number): boolean {
  const now = epochSeconds(nowMs);
  return entry.exp > now && (entry.nbf === undefined || entry.nbf <= now);
}

/** As jose reads the clock: whole seconds, rounded down. */
const epochSeconds = (nowMs: number) => Math.floor(nowMs / 1000);

function keyOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64');
}

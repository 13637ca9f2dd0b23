import { createHash } from 'node:crypto';
import { rateLimited } from '../errors.js';
import { clientKey } from './client-key.js';
import { type CounterStore, retryAfterSecs } from './counter-store.js';

export interface LoginThrottleOptions {
  /** Failures per account+IP that lock the pair; default 10. */
  maxFailures?: number;
  /** Sliding window for counting failures, in ms; default 15 minutes. */
  windowMs?: number;
  /** Added delay per account-wide failure beyond `maxFailures - 1`; default 250 ms. */
  delayStepMs?: number;
  /** Cap on the account-wide delay; default 3000 ms. */
  maxDelayMs?: number;
}

export const LOGIN_THROTTLE_DEFAULTS = {
  maxFailures: 10,
  windowMs: 15 * 60_000,
  delayStepMs: 250,
  maxDelayMs: 3000,
} as const satisfies Required<LoginThrottleOptions>;

/**
 * Login lockout and slow-down (PRODUCT.md §2 "Lockout and throttling"):
 *
 * - **Lockout per account + source IP:** after `maxFailures` failed logins for an account from
 *   one IP within the window, that IP's further attempts for that account are refused with
 *   `rate_limited` and a Retry-After of the time until the lock lifts. The same account from
 *   any other IP is not locked, so an attacker cannot lock the owner out.
 * - **Slow-down per account, all sources:** once the account has `maxFailures` or more failures
 *   within the window, every attempt first waits `delayStepMs × (failures − maxFailures + 1)`,
 *   capped at `maxDelayMs`.
 *
 * Windows are sliding: a lock lifts when the `maxFailures`-th most recent failure of the pair
 * is `windowMs` old. Use the lower-cased username as `accountKey`, also when no such account
 * exists, so the behaviour does not reveal which accounts exist. IPv6 sources count per /64.
 *
 * Use in the login route:
 * ```ts
 * const { delayMs } = await throttle.beforeAttempt(username, request.ip); // throws when locked
 * if (delayMs > 0) await sleep(delayMs);
 * if (!(await verify(...))) { await throttle.recordFailure(username, request.ip); throw ... }
 * await throttle.recordSuccess(username, request.ip);
 * ```
 * Store errors propagate (fail closed: the login fails rather than skipping the throttle).
 */
export class LoginThrottle {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly delayStepMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly store: CounterStore,
    private readonly now: () => number = Date.now,
    options: LoginThrottleOptions = {},
  ) {
    const o = { ...LOGIN_THROTTLE_DEFAULTS, ...options };
    if (!Number.isInteger(o.maxFailures) || o.maxFailures < 1)
      throw new RangeError('maxFailures must be an integer >= 1');
    this.maxFailures = o.maxFailures;
    this.windowMs = o.windowMs;
    this.delayStepMs = o.delayStepMs;
    this.maxDelayMs = o.maxDelayMs;
  }

  /**
   * Call before verifying the password. Throws `rate_limited` (429, Retry-After) when this
   * account is locked for this IP; otherwise returns the delay to await before verifying.
   */
  async beforeAttempt(accountKey: string, ip: string): Promise<{ delayMs: number }> {
    const now = this.now();
    const lockedSince = await this.store.nthNewestFailure(
      pairKey(accountKey, ip),
      this.maxFailures,
      this.windowMs,
      now,
    );
    if (lockedSince !== null) throw rateLimited(retryAfterSecs(lockedSince + this.windowMs - now));
    const failures = await this.store.countFailures(accountOnlyKey(accountKey), this.windowMs, now);
    return { delayMs: this.delayFor(failures) };
  }

  /** Call after a failed verification (wrong password, wrong 2FA code, unknown username). */
  async recordFailure(accountKey: string, ip: string): Promise<void> {
    const now = this.now();
    await Promise.all([
      this.store.addFailure(pairKey(accountKey, ip), this.windowMs, now),
      this.store.addFailure(accountOnlyKey(accountKey), this.windowMs, now),
    ]);
  }

  /**
   * Call after a successful login: clears this account+IP's failures. The account-wide count
   * (other sources' failures) is kept.
   */
  async recordSuccess(accountKey: string, ip: string): Promise<void> {
    await this.store.clearFailures(pairKey(accountKey, ip));
  }

  /** The slow-down for an account with `failures` failures in the window. */
  delayFor(failures: number): number {
    const over = failures - this.maxFailures + 1;
    return over > 0 ? Math.min(this.maxDelayMs, this.delayStepMs * over) : 0;
  }
}

/** The account part of a key: lower-cased, escaped, and hashed when long (bounded key size). */
function account(accountKey: string): string {
  const escaped = encodeURIComponent(accountKey.toLowerCase());
  return escaped.length <= 128 ? escaped : `#${createHash('sha256').update(escaped).digest('base64url')}`;
}

function pairKey(accountKey: string, ip: string): string {
  return `login:pair:${account(accountKey)}:${clientKey(ip)}`;
}

function accountOnlyKey(accountKey: string): string {
  return `login:account:${account(accountKey)}`;
}

/**
 * Shared counters for rate limiting and login throttling. With one server process the
 * in-memory store is enough; with several, every process uses the Redis store so that they
 * all see the same buckets and the same failure counts.
 *
 * Time is always passed in (`nowMs`, milliseconds since the epoch) so that callers can inject
 * a clock and tests never depend on the wall clock.
 */

/** A token bucket: holds up to `capacity` tokens, refilled continuously at `refillPerSec`. */
export interface BucketSpec {
  capacity: number;
  refillPerSec: number;
}

export interface TakeResult {
  /** True when a token was taken. */
  allowed: boolean;
  /** When refused: whole seconds until one token is back (at least 1). 0 when allowed. */
  retryAfterSecs: number;
}

/**
 * Failures are kept as a **sliding window**: a failure recorded at time `t` counts while
 * `nowMs - t < windowMs` (a failure exactly `windowMs` old no longer counts). Each key keeps
 * at most {@link MAX_FAILURES_PER_KEY} failures (the oldest are dropped), so counts saturate
 * there.
 *
 * Bucket keys and failure keys live in separate namespaces: the same key string may be used
 * for both without interference.
 */
export interface CounterStore {
  /** Takes one token from the bucket `key` (a missing bucket is full). */
  takeToken(key: string, spec: BucketSpec, nowMs: number): Promise<TakeResult>;
  /** Records a failure; returns the number of failures within the window, this one included. */
  addFailure(key: string, windowMs: number, nowMs: number): Promise<number>;
  /** The number of failures within the window. */
  countFailures(key: string, windowMs: number, nowMs: number): Promise<number>;
  /**
   * The time of the `n`-th most recent failure within the window (n = 1 is the newest), or
   * null when there are fewer than `n`. While it is not null there are at least `n` failures
   * in the window, and that stays true until it plus `windowMs` (when no failures are added).
   */
  nthNewestFailure(key: string, n: number, windowMs: number, nowMs: number): Promise<number | null>;
  /** Forgets every failure of `key`. */
  clearFailures(key: string): Promise<void>;
}

/** Failures remembered per key; counts do not grow beyond this. */
export const MAX_FAILURES_PER_KEY = 1000;

/** Whole seconds for a Retry-After header: rounded up, never less than 1. */
export function retryAfterSecs(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

export function checkBucketSpec(spec: BucketSpec): void {
  if (!(spec.capacity >= 1) || !Number.isFinite(spec.capacity)) {
    throw new RangeError(`bucket capacity must be a finite number >= 1 (got ${spec.capacity})`);
  }
  if (!(spec.refillPerSec > 0) || !Number.isFinite(spec.refillPerSec)) {
    throw new RangeError(`bucket refillPerSec must be a finite number > 0 (got ${spec.refillPerSec})`);
  }
}

export function checkWindow(windowMs: number): void {
  if (!(windowMs > 0) || !Number.isFinite(windowMs)) {
    throw new RangeError(`failure window must be a finite number of ms > 0 (got ${windowMs})`);
  }
}

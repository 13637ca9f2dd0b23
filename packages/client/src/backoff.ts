export interface BackoffOptions {
  /** The shortest wait (1 s). */
  minDelayMs?: number;
  /** The longest wait (30 s). */
  maxDelayMs?: number;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * Reconnect delays (PRODUCT.md §4): exponential with full jitter, always between 1 s and 30 s.
 * Attempt n (from 0) waits a uniformly random time in [min, min(max, min·2^(n+1))): 1–2 s,
 * 1–4 s, 1–8 s, 1–16 s, then 1–30 s. The jitter spreads the clients of a restarted server over
 * the whole window instead of having them return together.
 */
export class Backoff {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.minDelayMs = options.minDelayMs ?? 1000;
    this.maxDelayMs = Math.max(this.minDelayMs, options.maxDelayMs ?? 30_000);
    this.random = options.random ?? Math.random;
  }

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The next delay in milliseconds; each call widens the window until it reaches the maximum. */
  next(): number {
    // 2^31 is far past any maximum; capping the exponent keeps the arithmetic finite.
    const ceiling = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** Math.min(this.attempt + 1, 31));
    this.attempt++;
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.min(this.maxDelayMs, this.minDelayMs + r * (ceiling - this.minDelayMs));
  }

  /** Back to the shortest window, after a connection that worked. */
  reset(): void {
    this.attempt = 0;
  }
}

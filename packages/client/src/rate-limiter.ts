/**
 * The client's mirror of the gateway's per-socket token bucket (burst 30, 10 frames/s), so a
 * busy client paces itself instead of having frames refused with `rate_limited`. It keeps a
 * little below the server's burst: frames can arrive closer together than they were sent.
 */
export class RateLimiter {
  private tokens: number;
  private updatedAt: number | null = null;

  constructor(
    private readonly capacity: number,
    private readonly refillPerSec: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
  }

  /** Takes one token: 0 when taken, otherwise how many ms until one is available (none taken). */
  take(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.refillPerSec) * 1000));
  }

  /** A full bucket again: the server starts every socket with one. */
  reset(): void {
    this.tokens = this.capacity;
    this.updatedAt = null;
  }

  private refill(): void {
    const now = this.now();
    if (this.updatedAt !== null) {
      const refill = ((now - this.updatedAt) / 1000) * this.refillPerSec;
      this.tokens = Math.min(this.capacity, this.tokens + Math.max(0, refill));
    }
    this.updatedAt = now;
  }
}

/**
 * A per-connection token bucket: `capacity` frames at once, refilled at `refillPerSec`.
 * Local to the socket, so it needs no shared store.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt = 0;

  constructor(
    private readonly capacity: number,
    private readonly refillPerSec: number,
  ) {
    this.tokens = capacity;
  }

  take(nowMs: number): boolean {
    if (this.updatedAt !== 0) {
      const refill = ((nowMs - this.updatedAt) / 1000) * this.refillPerSec;
      this.tokens = Math.min(this.capacity, this.tokens + Math.max(0, refill));
    }
    this.updatedAt = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

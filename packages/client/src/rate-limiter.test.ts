import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('allows a burst, then one frame per refill interval, and says how long to wait', () => {
    let now = 1_000;
    const limiter = new RateLimiter(3, 10, () => now);
    expect([limiter.take(), limiter.take(), limiter.take()]).toEqual([0, 0, 0]);
    expect(limiter.take()).toBe(100);
    now += 50;
    expect(limiter.take()).toBe(50);
    now += 50;
    expect(limiter.take()).toBe(0);
    expect(limiter.take()).toBe(100);
  });

  it('never holds more than its capacity, and starts full again after a reset', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 10, () => now);
    now += 60_000;
    expect([limiter.take(), limiter.take()]).toEqual([0, 0]);
    expect(limiter.take()).toBeGreaterThan(0);
    limiter.reset();
    expect([limiter.take(), limiter.take()]).toEqual([0, 0]);
  });
});

import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

/** A random source that hands out the given values in turn. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('Backoff', () => {
  it('widens the window exponentially from 1 s and caps it at 30 s', () => {
    const highest = new Backoff({ random: () => 0.999999 });
    const ceilings = Array.from({ length: 8 }, () => Math.round(highest.next() / 1000));
    expect(ceilings).toEqual([2, 4, 8, 16, 30, 30, 30, 30]);
  });

  it('never waits less than 1 s, even with the lowest random value', () => {
    const lowest = new Backoff({ random: () => 0 });
    expect(Array.from({ length: 10 }, () => lowest.next())).toEqual(Array(10).fill(1000));
  });

  it('spreads the delay uniformly over the whole window (full jitter)', () => {
    const b = new Backoff({ random: sequence(0.5, 0.5, 0.5, 0.25, 0.75) });
    // Windows: [1, 2) s, [1, 4) s, [1, 8) s, [1, 16) s, [1, 30) s.
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([1500, 2500, 4500, 4750, 22750]);
  });

  it('stays within 1–30 s for any random value and any number of attempts', () => {
    const b = new Backoff({ random: Math.random });
    for (let i = 0; i < 200; i++) {
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(1000);
      expect(d).toBeLessThanOrEqual(30_000);
    }
    // Out-of-range random sources are clamped rather than trusted.
    expect(new Backoff({ random: () => 7 }).next()).toBe(2000);
    expect(new Backoff({ random: () => -1 }).next()).toBe(1000);
  });

  it('starts over after a reset (a connection that worked)', () => {
    const b = new Backoff({ random: () => 0.999999 });
    for (let i = 0; i < 6; i++) b.next();
    expect(b.attempts).toBe(6);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(Math.round(b.next())).toBe(2000);
  });

  it('honours a custom window', () => {
    const b = new Backoff({ minDelayMs: 10, maxDelayMs: 50, random: () => 0.999999 });
    expect(Array.from({ length: 4 }, () => Math.round(b.next()))).toEqual([20, 40, 50, 50]);
  });
});

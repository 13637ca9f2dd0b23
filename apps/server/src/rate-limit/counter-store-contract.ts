import { expect, it } from 'vitest';
import { type CounterStore, MAX_FAILURES_PER_KEY } from './counter-store.js';

const T0 = 1_700_000_000_000;
const WINDOW = 15 * 60_000;

/**
 * The behaviour every counter store must have. `open` returns a fresh store (for Redis, one
 * with its own key prefix); cleanup is the caller's.
 */
export function counterStoreContract(open: () => Promise<CounterStore>): void {
  it('allows a full burst, then refuses with the whole seconds until a token is back', async () => {
    const store = await open();
    const spec = { capacity: 5, refillPerSec: 2 };
    for (let i = 0; i < 5; i++)
      expect(await store.takeToken('b', spec, T0)).toEqual({ allowed: true, retryAfterSecs: 0 });
    expect(await store.takeToken('b', spec, T0)).toEqual({ allowed: false, retryAfterSecs: 1 });
    // Half a token back after 250 ms: still refused, and a refusal takes nothing.
    expect(await store.takeToken('b', spec, T0 + 250)).toEqual({ allowed: false, retryAfterSecs: 1 });
    expect((await store.takeToken('b', spec, T0 + 500)).allowed).toBe(true);
    expect((await store.takeToken('b', spec, T0 + 500)).allowed).toBe(false);
  });

  it('rounds Retry-After up to whole seconds for slow buckets', async () => {
    const store = await open();
    const spec = { capacity: 1, refillPerSec: 0.2 }; // one token per 5 s
    expect((await store.takeToken('slow', spec, T0)).allowed).toBe(true);
    expect(await store.takeToken('slow', spec, T0)).toEqual({ allowed: false, retryAfterSecs: 5 });
    expect(await store.takeToken('slow', spec, T0 + 4001)).toEqual({ allowed: false, retryAfterSecs: 1 });
    expect((await store.takeToken('slow', spec, T0 + 5000)).allowed).toBe(true);
  });

  it('refills continuously up to the capacity, never beyond', async () => {
    const store = await open();
    const spec = { capacity: 3, refillPerSec: 10 };
    for (let i = 0; i < 3; i++) await store.takeToken('r', spec, T0);
    // Long idle: back to exactly 3 tokens.
    const later = T0 + 3_600_000;
    for (let i = 0; i < 3; i++) expect((await store.takeToken('r', spec, later)).allowed).toBe(true);
    expect((await store.takeToken('r', spec, later)).allowed).toBe(false);
    expect((await store.takeToken('r', spec, later + 100)).allowed).toBe(true);
  });

  it('keeps buckets apart by key, and from failures of the same key', async () => {
    const store = await open();
    const spec = { capacity: 1, refillPerSec: 1 };
    expect((await store.takeToken('x', spec, T0)).allowed).toBe(true);
    expect((await store.takeToken('x', spec, T0)).allowed).toBe(false);
    expect((await store.takeToken('y', spec, T0)).allowed).toBe(true);
    expect(await store.addFailure('x', WINDOW, T0)).toBe(1);
    expect((await store.takeToken('x', spec, T0 + 1000)).allowed).toBe(true);
  });

  it('does not refill from a clock that is behind the last update', async () => {
    const store = await open();
    const spec = { capacity: 2, refillPerSec: 1 };
    await store.takeToken('skew', spec, T0 + 10_000);
    await store.takeToken('skew', spec, T0 + 10_000);
    // The lagging process neither refills nor rewinds the bucket; the wait is in the bucket's time.
    expect(await store.takeToken('skew', spec, T0)).toEqual({ allowed: false, retryAfterSecs: 1 });
    expect((await store.takeToken('skew', spec, T0 + 9_000)).allowed).toBe(false);
    expect((await store.takeToken('skew', spec, T0 + 11_000)).allowed).toBe(true);
  });

  it('rejects nonsensical bucket specs', async () => {
    const store = await open();
    await expect(store.takeToken('k', { capacity: 0, refillPerSec: 1 }, T0)).rejects.toThrow(RangeError);
    await expect(store.takeToken('k', { capacity: 1, refillPerSec: 0 }, T0)).rejects.toThrow(RangeError);
  });

  it('counts failures in a sliding window', async () => {
    const store = await open();
    expect(await store.countFailures('f', WINDOW, T0)).toBe(0);
    expect(await store.addFailure('f', WINDOW, T0)).toBe(1);
    expect(await store.addFailure('f', WINDOW, T0 + 60_000)).toBe(2);
    expect(await store.addFailure('f', WINDOW, T0 + 60_000)).toBe(3); // same instant counts twice
    expect(await store.countFailures('f', WINDOW, T0 + 60_000)).toBe(3);
    expect(await store.countFailures('f', WINDOW, T0 + WINDOW - 1)).toBe(3);
    // Exactly windowMs old: no longer counts.
    expect(await store.countFailures('f', WINDOW, T0 + WINDOW)).toBe(2);
    expect(await store.addFailure('f', WINDOW, T0 + WINDOW + 1)).toBe(3);
    expect(await store.countFailures('f', WINDOW, T0 + 60_000 + WINDOW)).toBe(1);
    expect(await store.countFailures('other', WINDOW, T0 + 60_000)).toBe(0);
  });

  it('finds the n-th newest failure within the window', async () => {
    const store = await open();
    for (let i = 0; i < 4; i++) await store.addFailure('n', WINDOW, T0 + i * 1000);
    const now = T0 + 3000;
    expect(await store.nthNewestFailure('n', 1, WINDOW, now)).toBe(T0 + 3000);
    expect(await store.nthNewestFailure('n', 4, WINDOW, now)).toBe(T0);
    expect(await store.nthNewestFailure('n', 5, WINDOW, now)).toBeNull();
    // Once the oldest leaves the window there are only 3.
    expect(await store.nthNewestFailure('n', 4, WINDOW, T0 + WINDOW)).toBeNull();
    expect(await store.nthNewestFailure('n', 3, WINDOW, T0 + WINDOW)).toBe(T0 + 1000);
    expect(await store.nthNewestFailure('none', 1, WINDOW, now)).toBeNull();
  });

  it('clears failures of one key only', async () => {
    const store = await open();
    await store.addFailure('a', WINDOW, T0);
    await store.addFailure('b', WINDOW, T0);
    await store.clearFailures('a');
    await store.clearFailures('never-seen');
    expect(await store.countFailures('a', WINDOW, T0)).toBe(0);
    expect(await store.countFailures('b', WINDOW, T0)).toBe(1);
    expect(await store.addFailure('a', WINDOW, T0 + 1)).toBe(1);
  });

  it(`caps the failures kept per key at ${MAX_FAILURES_PER_KEY}`, async () => {
    const store = await open();
    let last = 0;
    for (let i = 0; i < MAX_FAILURES_PER_KEY + 5; i++) last = await store.addFailure('cap', WINDOW, T0 + i);
    expect(last).toBe(MAX_FAILURES_PER_KEY);
    expect(await store.countFailures('cap', WINDOW, T0 + MAX_FAILURES_PER_KEY + 5)).toBe(MAX_FAILURES_PER_KEY);
  });

  it('treats keys with separators and unicode as distinct opaque strings', async () => {
    const store = await open();
    await store.addFailure('a:b', WINDOW, T0);
    await store.addFailure('a:b:c', WINDOW, T0);
    await store.addFailure('ä', WINDOW, T0);
    expect(await store.countFailures('a:b', WINDOW, T0)).toBe(1);
    expect(await store.countFailures('a', WINDOW, T0)).toBe(0);
    expect(await store.countFailures('ä', WINDOW, T0)).toBe(1);
  });
}

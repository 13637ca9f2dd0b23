import {
  type BucketSpec,
  type CounterStore,
  MAX_FAILURES_PER_KEY,
  type TakeResult,
  checkBucketSpec,
  checkWindow,
  retryAfterSecs,
} from './counter-store.js';

/** Default cap on keys per kind (buckets, failure lists). */
export const MEMORY_STORE_MAX_KEYS = 100_000;

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/**
 * A map whose entries expire and whose size is capped. Entries are kept in order of their
 * last write; expired entries at the front are swept on every write, and when the cap is
 * exceeded the least recently written entries are evicted.
 */
class ExpiringMap<V> {
  private readonly map = new Map<string, Entry<V>>();
  constructor(private readonly maxKeys: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string, nowMs: number): V | undefined {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= nowMs) {
      this.map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, expiresAt: number, nowMs: number): void {
    this.map.delete(key);
    if (expiresAt > nowMs) this.map.set(key, { value, expiresAt });
    this.sweep(nowMs);
    while (this.map.size > this.maxKeys) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  /** Drops expired entries from the front (amortised O(1) per write). */
  private sweep(nowMs: number): void {
    for (const [key, entry] of this.map) {
      if (entry.expiresAt > nowMs) break;
      this.map.delete(key);
    }
  }
}

interface Bucket {
  tokens: number;
  ts: number;
}

export interface MemoryCounterStoreOptions {
  /** Cap on buckets, and separately on failure lists; default 100 000 each. */
  maxKeys?: number;
}

/**
 * The counter store for a single server process. Memory is bounded: a bucket is dropped once
 * it would be full again (a missing bucket is full, so nothing changes), a failure list once
 * its newest failure leaves the window, and beyond `maxKeys` the least recently written keys
 * are evicted (an evicted bucket starts full, evicted failures are forgotten).
 *
 * Failure windows are sliding windows (see {@link CounterStore}).
 */
export class MemoryCounterStore implements CounterStore {
  private readonly buckets: ExpiringMap<Bucket>;
  private readonly failures: ExpiringMap<number[]>;

  constructor(options: MemoryCounterStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? MEMORY_STORE_MAX_KEYS;
    if (!(maxKeys >= 1)) throw new RangeError('maxKeys must be >= 1');
    this.buckets = new ExpiringMap(maxKeys);
    this.failures = new ExpiringMap(maxKeys);
  }

  /** Keys currently held (for tests and metrics). */
  get size(): { buckets: number; failures: number } {
    return { buckets: this.buckets.size, failures: this.failures.size };
  }

  async takeToken(key: string, spec: BucketSpec, nowMs: number): Promise<TakeResult> {
    checkBucketSpec(spec);
    const { capacity, refillPerSec } = spec;
    const bucket = this.buckets.get(key, nowMs) ?? { tokens: capacity, ts: nowMs };
    // A clock behind the stored time (another process) refills nothing rather than going negative.
    const ts = Math.max(bucket.ts, nowMs);
    let tokens = Math.min(capacity, bucket.tokens + ((ts - bucket.ts) * refillPerSec) / 1000);
    let result: TakeResult;
    if (tokens >= 1) {
      tokens -= 1;
      result = { allowed: true, retryAfterSecs: 0 };
    } else {
      result = { allowed: false, retryAfterSecs: retryAfterSecs(((1 - tokens) * 1000) / refillPerSec) };
    }
    const fullAt = ts + Math.ceil(((capacity - tokens) * 1000) / refillPerSec);
    this.buckets.set(key, { tokens, ts }, fullAt, nowMs);
    return result;
  }

  async addFailure(key: string, windowMs: number, nowMs: number): Promise<number> {
    checkWindow(windowMs);
    const list = this.failures.get(key, nowMs) ?? [];
    list.splice(0, firstLive(list, windowMs, nowMs));
    // Keep the list sorted even if a clock steps back.
    let i = list.length;
    while (i > 0 && list[i - 1]! > nowMs) i--;
    list.splice(i, 0, nowMs);
    if (list.length > MAX_FAILURES_PER_KEY) list.splice(0, list.length - MAX_FAILURES_PER_KEY);
    this.failures.set(key, list, list[list.length - 1]! + windowMs, nowMs);
    return list.length;
  }

  async countFailures(key: string, windowMs: number, nowMs: number): Promise<number> {
    checkWindow(windowMs);
    const list = this.failures.get(key, nowMs) ?? [];
    return list.length - firstLive(list, windowMs, nowMs);
  }

  async nthNewestFailure(key: string, n: number, windowMs: number, nowMs: number): Promise<number | null> {
    checkWindow(windowMs);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1 (got ${n})`);
    const list = this.failures.get(key, nowMs) ?? [];
    return list.length - firstLive(list, windowMs, nowMs) >= n ? list[list.length - n]! : null;
  }

  async clearFailures(key: string): Promise<void> {
    this.failures.delete(key);
  }
}

/** Index of the first failure (oldest first) still within the window. */
function firstLive(list: number[], windowMs: number, nowMs: number): number {
  let i = 0;
  while (i < list.length && list[i]! <= nowMs - windowMs) i++;
  return i;
}

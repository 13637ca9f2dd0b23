import { describe, expect, it } from 'vitest';
import { counterStoreContract } from './counter-store-contract.js';
import { MemoryCounterStore } from './memory-counter-store.js';

const T0 = 1_700_000_000_000;

describe('MemoryCounterStore', () => {
  counterStoreContract(async () => new MemoryCounterStore());

  it('drops a bucket once it is full again, and failures once they leave the window', async () => {
    const store = new MemoryCounterStore();
    const spec = { capacity: 10, refillPerSec: 5 };
    for (let i = 0; i < 4; i++) await store.takeToken(`ip${i}`, spec, T0);
    await store.addFailure('acct', 60_000, T0);
    expect(store.size).toEqual({ buckets: 4, failures: 1 });
    // 200 ms later every bucket is full again; the next write sweeps them.
    await store.takeToken('fresh', spec, T0 + 200);
    expect(store.size.buckets).toBe(1);
    await store.addFailure('other', 60_000, T0 + 60_000);
    expect(store.size.failures).toBe(1);
    expect(await store.countFailures('acct', 60_000, T0 + 60_000)).toBe(0);
  });

  it('caps the number of keys, evicting the least recently written', async () => {
    const store = new MemoryCounterStore({ maxKeys: 3 });
    const spec = { capacity: 1, refillPerSec: 0.001 };
    for (const ip of ['a', 'b', 'c']) await store.takeToken(ip, spec, T0);
    await store.takeToken('a', spec, T0); // refused, but rewritten: now the newest
    await store.takeToken('d', spec, T0); // evicts 'b'
    expect(store.size.buckets).toBe(3);
    expect((await store.takeToken('a', spec, T0)).allowed).toBe(false);
    expect((await store.takeToken('c', spec, T0)).allowed).toBe(false);
    expect((await store.takeToken('b', spec, T0)).allowed).toBe(true); // forgotten: full again

    for (let i = 0; i < 10; i++) await store.addFailure(`acct${i}`, 60_000, T0);
    expect(store.size.failures).toBe(3);
    expect(await store.countFailures('acct9', 60_000, T0)).toBe(1);
    expect(await store.countFailures('acct0', 60_000, T0)).toBe(0);
  });

  it('stays within the cap under a flood of distinct keys', async () => {
    const store = new MemoryCounterStore({ maxKeys: 1000 });
    const spec = { capacity: 50, refillPerSec: 20 };
    for (let i = 0; i < 20_000; i++) await store.takeToken(`ip${i}`, spec, T0 + i);
    expect(store.size.buckets).toBeLessThanOrEqual(1000);
  });
});

import { afterEach, expect, it } from 'vitest';
import type { Broker } from './broker.js';

/** Waits until `check` passes or the time runs out (delivery is asynchronous). */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/**
 * The behaviour every broker implementation must have. `pair` returns two brokers that
 * share one bus (for the in-process broker, the same instance twice).
 */
export function brokerContract(pair: () => Promise<[Broker, Broker]>): void {
  const opened: Broker[] = [];
  const open = async () => {
    const brokers = await pair();
    opened.push(...brokers);
    return brokers;
  };
  afterEach(async () => {
    await Promise.all([...new Set(opened.splice(0))].map((b) => b.close()));
  });

  it('delivers to every subscriber of the topic, on either end, and to no other topic', async () => {
    const [a, b] = await open();
    const onA: string[] = [];
    const onB: string[] = [];
    const other: string[] = [];
    await a.subscribe('channel:1', (p) => onA.push(p));
    await b.subscribe('channel:1', (p) => onB.push(p));
    await b.subscribe('channel:2', (p) => other.push(p));
    await a.publish('channel:1', 'hello');
    await eventually(() => {
      expect(onA).toEqual(['hello']);
      expect(onB).toEqual(['hello']);
    });
    expect(other).toEqual([]);
  });

  it('keeps publish order per topic', async () => {
    const [a, b] = await open();
    const got: string[] = [];
    await b.subscribe('t', (p) => got.push(p));
    const sent = Array.from({ length: 200 }, (_, i) => `m${i}`);
    for (const m of sent) await a.publish('t', m);
    await eventually(() => expect(got).toEqual(sent));
  });

  it('stops delivering after unsubscribe, but keeps other subscribers of the topic', async () => {
    const [a, b] = await open();
    const first: string[] = [];
    const second: string[] = [];
    const unsubscribe = await b.subscribe('t', (p) => first.push(p));
    await b.subscribe('t', (p) => second.push(p));
    await unsubscribe();
    await a.publish('t', 'x');
    await eventually(() => expect(second).toEqual(['x']));
    expect(first).toEqual([]);
  });

  it('isolates a throwing handler from the other handlers and from the publisher', async () => {
    const [a, b] = await open();
    const got: string[] = [];
    await b.subscribe('t', () => {
      throw new Error('handler bug');
    });
    await b.subscribe('t', (p) => got.push(p));
    await expect(a.publish('t', 'still delivered')).resolves.toBeUndefined();
    await eventually(() => expect(got).toEqual(['still delivered']));
  });

  it('answers ping', async () => {
    const [a] = await open();
    expect(await a.ping()).toBe(true);
  });
}

import { describe, expect, it } from 'vitest';
import { brokerContract } from './broker-contract.js';
import { MemoryBroker } from './memory-broker.js';

describe('MemoryBroker', () => {
  brokerContract(async () => {
    const broker = new MemoryBroker();
    return [broker, broker];
  });

  it('delivers asynchronously, after publish returns', async () => {
    const broker = new MemoryBroker();
    const got: string[] = [];
    await broker.subscribe('t', (p) => got.push(p));
    const published = broker.publish('t', 'x');
    expect(got).toEqual([]);
    await published;
    await Promise.resolve();
    expect(got).toEqual(['x']);
  });

  it('forgets topics without subscribers and refuses work once closed', async () => {
    const broker = new MemoryBroker();
    const unsubscribe = await broker.subscribe('t', () => undefined);
    expect(broker.topicCount).toBe(1);
    await unsubscribe();
    expect(broker.topicCount).toBe(0);
    await broker.close();
    expect(await broker.ping()).toBe(false);
    await expect(broker.publish('t', 'x')).rejects.toThrow(/closed/);
  });
});

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../test-support/services.js';
import { brokerContract, eventually } from './broker-contract.js';
import { RedisBroker } from './redis-broker.js';

describe.skipIf(!TEST_REDIS_URL)('RedisBroker (two processes sharing Redis)', () => {
  const url = TEST_REDIS_URL!;
  brokerContract(async () => [await RedisBroker.connect(url), await RedisBroker.connect(url)]);

  it('holds one Redis subscription per topic per process, dropped with the last local handler', async () => {
    const broker = await RedisBroker.connect(url);
    const probe = new Redis(url);
    const topic = `numsub-${Date.now()}-${Math.random()}`;
    const count = async () => Number(((await probe.pubsub('NUMSUB', `chatalot:${topic}`)) as [string, number])[1]);
    try {
      const offs = await Promise.all([1, 2, 3].map(() => broker.subscribe(topic, () => undefined)));
      expect(await count()).toBe(1);
      await offs[0]!();
      await offs[1]!();
      expect(await count()).toBe(1);
      await offs[2]!();
      await eventually(async () => expect(await count()).toBe(0));
    } finally {
      probe.disconnect();
      await broker.close();
    }
  });

  it('fails to connect with a clear message when Redis is unreachable', async () => {
    await expect(RedisBroker.connect('redis://127.0.0.1:1')).rejects.toThrow(/cannot connect to Redis at REDIS_URL/);
  });
});

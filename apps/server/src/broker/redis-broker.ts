import { Redis } from 'ioredis';
import type { Broker, BrokerHandler, Unsubscribe } from './broker.js';

const PREFIX = 'chatalot:';
const PING_TIMEOUT_MS = 2000;

/**
 * The broker for several server processes, over Redis pub/sub. One connection publishes, one
 * subscribes; each topic is subscribed on Redis once per process, however many local
 * handlers it has, and unsubscribed when the last one leaves.
 */
export class RedisBroker implements Broker {
  readonly kind = 'redis' as const;
  private readonly topics = new Map<string, Set<BrokerHandler>>();

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly onHandlerError: (err: unknown, topic: string) => void,
  ) {
    sub.on('message', (channel: string, payload: string) => this.deliver(channel, payload));
  }

  /** Connects both connections; fails with a clear message when Redis cannot be reached. */
  static async connect(
    url: string,
    onHandlerError: (err: unknown, topic: string) => void = () => undefined,
  ): Promise<RedisBroker> {
    const options = { lazyConnect: true, maxRetriesPerRequest: 3, enableOfflineQueue: true };
    const pub = new Redis(url, options);
    const sub = new Redis(url, options);
    // ioredis reconnects by itself; an 'error' event without a listener would crash the process.
    for (const conn of [pub, sub]) conn.on('error', () => undefined);
    try {
      await Promise.all([pub.connect(), sub.connect()]);
    } catch (err) {
      pub.disconnect();
      sub.disconnect();
      throw new Error(`cannot connect to Redis at REDIS_URL (${err instanceof Error ? err.message : String(err)})`);
    }
    return new RedisBroker(pub, sub, onHandlerError);
  }

  async publish(topic: string, payload: string): Promise<void> {
    await this.pub.publish(PREFIX + topic, payload);
  }

  async subscribe(topic: string, handler: BrokerHandler): Promise<Unsubscribe> {
    let handlers = this.topics.get(topic);
    const first = !handlers;
    if (!handlers) {
      handlers = new Set();
      this.topics.set(topic, handlers);
    }
    const entry: BrokerHandler = (payload, t) => handler(payload, t);
    handlers.add(entry);
    if (first) await this.sub.subscribe(PREFIX + topic);
    return async () => {
      const current = this.topics.get(topic);
      if (!current?.delete(entry) || current.size > 0) return;
      this.topics.delete(topic);
      await this.sub.unsubscribe(PREFIX + topic);
    };
  }

  async ping(): Promise<boolean> {
    if (this.sub.status !== 'ready') return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
    });
    try {
      return await Promise.race([
        this.pub.ping().then(
          (r) => r === 'PONG',
          () => false,
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.topics.clear();
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
  }

  private deliver(channel: string, payload: string): void {
    if (!channel.startsWith(PREFIX)) return;
    const topic = channel.slice(PREFIX.length);
    for (const handler of [...(this.topics.get(topic) ?? [])]) {
      try {
        handler(payload, topic);
      } catch (err) {
        this.onHandlerError(err, topic);
      }
    }
  }
}

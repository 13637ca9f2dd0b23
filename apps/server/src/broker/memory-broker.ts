import type { Broker, BrokerHandler, Unsubscribe } from './broker.js';

/**
 * The in-process broker for a single server process. Delivery is asynchronous (a microtask
 * after `publish`) like a network broker's, so code behaves the same on both. A handler that
 * throws is reported and never affects other subscribers or the publisher.
 */
export class MemoryBroker implements Broker {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<string, Set<BrokerHandler>>();
  private closed = false;

  constructor(private readonly onHandlerError: (err: unknown, topic: string) => void = () => undefined) {}

  async publish(topic: string, payload: string): Promise<void> {
    if (this.closed) throw new Error('broker is closed');
    const handlers = this.topics.get(topic);
    if (!handlers || handlers.size === 0) return;
    // Snapshot: a handler that (un)subscribes during delivery does not change this delivery.
    const targets = [...handlers];
    queueMicrotask(() => {
      for (const handler of targets) {
        try {
          handler(payload, topic);
        } catch (err) {
          this.onHandlerError(err, topic);
        }
      }
    });
  }

  async subscribe(topic: string, handler: BrokerHandler): Promise<Unsubscribe> {
    if (this.closed) throw new Error('broker is closed');
    let handlers = this.topics.get(topic);
    if (!handlers) {
      handlers = new Set();
      this.topics.set(topic, handlers);
    }
    // Wrap so the same function may subscribe twice and unsubscribe each independently.
    const entry: BrokerHandler = (payload, t) => handler(payload, t);
    handlers.add(entry);
    return async () => {
      const current = this.topics.get(topic);
      if (!current) return;
      current.delete(entry);
      if (current.size === 0) this.topics.delete(topic);
    };
  }

  async ping(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.topics.clear();
  }

  /** Number of topics with at least one subscriber (for tests and metrics). */
  get topicCount(): number {
    return this.topics.size;
  }
}

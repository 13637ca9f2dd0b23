/**
 * Publish/subscribe by topic: the one fan-out path between server processes. Payloads are
 * strings (usually a JSON event encoded once by the publisher), so every subscriber on every
 * process receives exactly the bytes that were published. The server's entry point is the
 * only place that creates a broker.
 */
export interface Broker {
  readonly kind: 'memory' | 'redis';
  /** Delivers `payload` to every current subscriber of `topic`, in publish order per topic. */
  publish(topic: string, payload: string): Promise<void>;
  /** Registers `handler` for `topic`; resolves once the subscription is active. */
  subscribe(topic: string, handler: BrokerHandler): Promise<Unsubscribe>;
  /** True when the broker can deliver messages. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export type BrokerHandler = (payload: string, topic: string) => void;
export type Unsubscribe = () => Promise<void>;

import type { Message } from '@chatalot/protocol';
import type { Broker, Unsubscribe } from '../broker/broker.js';
import { ChannelFeed, type CreatedEvent } from './channel-feed.js';

/** What the registry needs from a connection. */
export interface Subscriber {
  readonly userId: string;
  readonly sessionId: string;
  /**
   * An event from a topic the subscriber listens to; `frame` is its JSON, UTF-8 encoded once
   * for every socket it goes to, to write as is.
   */
  deliver(topic: string, event: BrokerEvent, frame: Buffer): void;
}

export interface BrokerEvent {
  type: string;
  [field: string]: unknown;
}

interface TopicEntry {
  subscribers: Set<Subscriber>;
  /** Resolves once the broker subscription (and the feed, for channels) is live. */
  ready: Promise<void>;
  unsubscribe: Promise<Unsubscribe | null>;
  feed: ChannelFeed | null;
}

export interface RegistryDeps {
  broker: Broker;
  /** The channel's current last seq (read after the subscription is live). */
  lastSeq: (channelId: string) => Promise<number>;
  /** Committed messages with seq in (after, upTo], ascending. */
  loadAfter: (channelId: string, after: number, upTo: number) => Promise<Message[]>;
  /** Events about people or places: the gateway re-reads the access of the users involved. */
  onStructural: (topic: string, event: BrokerEvent) => void;
  onError: (err: unknown) => void;
}

const CHANNEL_PREFIX = 'channel:';

/**
 * This process's side of the broker: one subscription per topic, however many local sockets
 * listen to it, dropped when the last one leaves. Channel topics go through a ChannelFeed so
 * local sockets see each channel's messages once and in sequence order.
 */
export class Registry {
  private readonly topics = new Map<string, TopicEntry>();
  readonly users = new Map<string, Set<Subscriber>>();
  /** Users whose access is being re-read: events for their subscribers wait here, in order. */
  private readonly held = new Map<
    string,
    { subscriber: Subscriber; topic: string; event: BrokerEvent; frame: Buffer }[]
  >();

  constructor(private readonly deps: RegistryDeps) {}

  /** Adds the subscriber to the topic; resolves when events of the topic reach it. */
  async add(topic: string, subscriber: Subscriber): Promise<void> {
    let entry = this.topics.get(topic);
    if (!entry) entry = this.open(topic);
    entry.subscribers.add(subscriber);
    await entry.ready;
  }

  remove(topic: string, subscriber: Subscriber): void {
    const entry = this.topics.get(topic);
    if (!entry || !entry.subscribers.delete(subscriber) || entry.subscribers.size > 0) return;
    this.topics.delete(topic);
    entry.feed?.close();
    void entry.unsubscribe.then((unsubscribe) => unsubscribe?.()).catch(this.deps.onError);
  }

  addUser(subscriber: Subscriber): void {
    const set = this.users.get(subscriber.userId) ?? new Set();
    set.add(subscriber);
    this.users.set(subscriber.userId, set);
  }

  removeUser(subscriber: Subscriber): void {
    const set = this.users.get(subscriber.userId);
    if (!set) return;
    set.delete(subscriber);
    if (set.size === 0) this.users.delete(subscriber.userId);
  }

  /** Local subscribers of a topic. */
  subscribersOf(topic: string): Subscriber[] {
    return [...(this.topics.get(topic)?.subscribers ?? [])];
  }

  /** The seq up to which this process's feed of a channel has delivered. */
  feedSeq(channelId: string): number | undefined {
    return this.topics.get(CHANNEL_PREFIX + channelId)?.feed?.lastSeq;
  }

  topicCount(): number {
    return this.topics.size;
  }

  private open(topic: string): TopicEntry {
    const entry: TopicEntry = {
      subscribers: new Set(),
      ready: Promise.resolve(),
      unsubscribe: Promise.resolve(null),
      feed: null,
    };
    this.topics.set(topic, entry);
    const handler = (payload: string) => this.receive(topic, entry, payload);
    const subscribed = this.deps.broker.subscribe(topic, handler);
    entry.unsubscribe = subscribed.catch((err: unknown) => {
      this.deps.onError(err);
      return null;
    });
    entry.ready = subscribed.then(async () => {
      if (!topic.startsWith(CHANNEL_PREFIX)) return;
      const channelId = topic.slice(CHANNEL_PREFIX.length);
      const last = await this.deps.lastSeq(channelId);
      entry.feed = new ChannelFeed(
        channelId,
        last,
        this.deps.loadAfter,
        (event, raw) => this.fanOut(topic, entry, event as unknown as BrokerEvent, raw ?? JSON.stringify(event)),
        this.deps.onError,
      );
    });
    entry.ready.catch(() => undefined);
    return entry;
  }

  private receive(topic: string, entry: TopicEntry, payload: string): void {
    let event: BrokerEvent;
    try {
      event = JSON.parse(payload) as BrokerEvent;
    } catch (err) {
      this.deps.onError(err);
      return;
    }
    if (event.type === 'message.created' && typeof event.seq === 'number') {
      // Before the feed exists the event is already counted in the last seq it will start from.
      entry.feed?.push(event as unknown as CreatedEvent, payload);
      return;
    }
    this.fanOut(topic, entry, event, payload);
    this.deps.onStructural(topic, event);
  }

  /**
   * Holds back every event for the user's subscribers until `release`: while the gateway re-reads
   * their access (after a kick, say), nothing may slip out on a topic that is about to be dropped.
   */
  hold(userId: string): void {
    if (!this.held.has(userId)) this.held.set(userId, []);
  }

  /** Delivers what was held, in arrival order, on the topics each subscriber still listens to. */
  release(userId: string): void {
    const queued = this.held.get(userId);
    this.held.delete(userId);
    for (const { subscriber, topic, event, frame } of queued ?? []) {
      if (this.topics.get(topic)?.subscribers.has(subscriber)) subscriber.deliver(topic, event, frame);
    }
  }

  private fanOut(topic: string, entry: TopicEntry, event: BrokerEvent, raw: string): void {
    // Encoded here once: a string handed to each socket would be measured and encoded per socket.
    const frame = Buffer.from(raw);
    for (const subscriber of [...entry.subscribers]) {
      const queued = this.held.get(subscriber.userId);
      if (queued) queued.push({ subscriber, topic, event, frame });
      else subscriber.deliver(topic, event, frame);
    }
  }
}

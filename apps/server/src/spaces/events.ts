import type { Broker } from '../broker/broker.js';

/** Topics on which membership and settings changes travel to every process. */
export const topics = {
  community: (id: string) => `community:${id}`,
  group: (id: string) => `group:${id}`,
  channel: (id: string) => `channel:${id}`,
  user: (id: string) => `user:${id}`,
};

/**
 * A change to a community, group, channel or membership (`member.joined`, `member.left`,
 * `member.kicked`, `member.banned`, `member.role_updated`, `community.updated`,
 * `group.updated`, `channel.updated`, `*.deleted`, …). Published after the change committed,
 * so the gateway can act on open sockets and clients can rotate their group keys.
 */
export interface SpaceEvent {
  type: string;
  [field: string]: unknown;
}

export class SpaceEvents {
  constructor(private readonly broker: Broker) {}

  /** Publishes one event, encoded once, to each of the given topics. */
  async publish(event: SpaceEvent, ...targets: string[]): Promise<void> {
    const payload = JSON.stringify(event);
    await Promise.all(targets.map((topic) => this.broker.publish(topic, payload)));
  }
}

import type { SpacesDeps } from '../spaces/deps.js';
import { type SpaceEvent, topics } from '../spaces/events.js';

/**
 * Where news of a group goes: its own topic, plus the community topic for public groups
 * (every member may see them) or each member's user topic for private ones (their existence
 * is not everybody's business).
 */
export async function publishGroupEvent(
  deps: SpacesDeps,
  group: { id: string; community_id: string; visibility: 'public' | 'private' },
  event: SpaceEvent,
  memberIds: readonly string[] = [],
): Promise<void> {
  const extra =
    group.visibility === 'public' ? [topics.community(group.community_id)] : memberIds.map((id) => topics.user(id));
  await deps.events.publish(
    { ...event, community_id: group.community_id, group_id: group.id },
    topics.group(group.id),
    ...extra,
  );
}

/** A member joined or left a group: to the group, and to the member's other sessions. */
export async function publishMembership(
  deps: SpacesDeps,
  type: 'member.joined' | 'member.left' | 'member.kicked' | 'member.role_updated',
  group: { id: string; community_id: string },
  userId: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await deps.events.publish(
    { type, community_id: group.community_id, group_id: group.id, user_id: userId, ...extra },
    topics.group(group.id),
    topics.user(userId),
  );
}

/** A channel changed: to its group and to the channel itself. */
export async function publishChannelEvent(
  deps: SpacesDeps,
  channel: { id: string; group_id: string },
  communityId: string,
  event: SpaceEvent,
): Promise<void> {
  await deps.events.publish(
    { ...event, community_id: communityId, group_id: channel.group_id, channel_id: channel.id },
    topics.group(channel.group_id),
    topics.channel(channel.id),
  );
}

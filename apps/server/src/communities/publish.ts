import type { SpacesDeps } from '../spaces/deps.js';
import { topics } from '../spaces/events.js';

/**
 * A change to one member: to the community (everyone's member list) and to the member
 * themselves (their other sessions, and the gateway acting on their sockets).
 */
export async function publishToMember(
  deps: SpacesDeps,
  communityId: string,
  userId: string,
  event: { type: string; [field: string]: unknown },
): Promise<void> {
  await deps.events.publish(
    { ...event, community_id: communityId, user_id: userId },
    topics.community(communityId),
    topics.user(userId),
  );
}

/**
 * Someone left the community (kick, ban, leave): also to each group they were removed from,
 * so the remaining members of those groups rotate their keys.
 */
export async function publishRemoval(
  deps: SpacesDeps,
  type: 'member.kicked' | 'member.banned' | 'member.left',
  communityId: string,
  userId: string,
  groupIds: string[],
): Promise<void> {
  await publishToMember(deps, communityId, userId, { type, group_ids: groupIds });
  for (const groupId of groupIds) {
    await deps.events.publish(
      { type, community_id: communityId, group_id: groupId, user_id: userId },
      topics.group(groupId),
    );
  }
}

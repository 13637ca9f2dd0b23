import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { topics } from '../spaces/events.js';

/** Everything one user's sockets listen to, as broker topics. */
export interface UserTopics {
  /** `channel:<id>` → channel id, for channels whose messages the user receives. */
  channels: Map<string, string>;
  /** Community and group topics (membership and settings news) and the user's own topic. */
  others: Set<string>;
}

/**
 * Works out, fresh from the database, which topics a user's sockets may listen to. It mirrors
 * `channel.view` in the permission module: channels of the groups the user belongs to in
 * communities where they are a member and not banned, every channel of communities where
 * they moderate, and their DMs. (Instance admins may read any channel through REST, but their
 * sockets are not subscribed to every channel of the instance.)
 */
export async function topicsOf(db: Kysely<DB>, userId: string): Promise<UserTopics> {
  const memberships = await db
    .selectFrom('community_members as m')
    .select(['m.community_id', 'm.role'])
    .where('m.user_id', '=', userId)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('community_bans as b')
            .select('b.user_id')
            .whereRef('b.community_id', '=', 'm.community_id')
            .whereRef('b.user_id', '=', 'm.user_id'),
        ),
      ),
    )
    .execute();
  const communities = memberships.map((m) => m.community_id);
  const moderated = memberships.filter((m) => m.role !== 'member').map((m) => m.community_id);

  const groups =
    communities.length === 0
      ? []
      : await db
          .selectFrom('groups as g')
          .select('g.id')
          .where('g.community_id', 'in', communities)
          .where((eb) =>
            eb.or([
              ...(moderated.length > 0 ? [eb('g.community_id', 'in', moderated)] : []),
              eb.exists(
                eb
                  .selectFrom('group_members as gm')
                  .select('gm.user_id')
                  .whereRef('gm.group_id', '=', 'g.id')
                  .where('gm.user_id', '=', userId),
              ),
            ]),
          )
          .execute();
  const groupIds = groups.map((g) => g.id);

  const channels = await db
    .selectFrom('channels as c')
    .select('c.id')
    .where((eb) =>
      eb.or([
        ...(groupIds.length > 0 ? [eb('c.group_id', 'in', groupIds)] : []),
        eb.and([
          eb('c.group_id', 'is', null),
          eb.exists(
            eb
              .selectFrom('channel_members as cm')
              .select('cm.user_id')
              .whereRef('cm.channel_id', '=', 'c.id')
              .where('cm.user_id', '=', userId),
          ),
        ]),
      ]),
    )
    .execute();

  const others = new Set<string>([topics.user(userId)]);
  for (const id of communities) others.add(topics.community(id));
  for (const id of groupIds) others.add(topics.group(id));
  return { channels: new Map(channels.map((c) => [topics.channel(c.id), c.id])), others };
}

/** The latest sequence number of each channel. */
export async function lastSeqs(db: Kysely<DB>, channelIds: readonly string[]): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  for (let i = 0; i < channelIds.length; i += 500) {
    const rows = await db
      .selectFrom('channels')
      .select(['id', 'last_seq'])
      .where('id', 'in', channelIds.slice(i, i + 500))
      .execute();
    for (const row of rows) result.set(row.id, Number(row.last_seq));
  }
  return result;
}

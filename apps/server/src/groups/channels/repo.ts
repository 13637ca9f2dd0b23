import type { Channel, ChannelMember } from '@chatalot/protocol';
import type { z } from 'zod';
import { notFound } from '../../errors.js';
import { type Db, groupMembersQuery } from '../repo.js';
import { toChannel, toGroupMember } from '../views.js';

/** A channel with its community (null for DMs); not_found when it is gone. */
export async function loadChannel(db: Db, channelId: string): Promise<z.input<typeof Channel>> {
  const row = await db
    .selectFrom('channels as c')
    .leftJoin('groups as g', 'g.id', 'c.group_id')
    .selectAll('c')
    .select('g.community_id')
    .where('c.id', '=', channelId)
    .executeTakeFirst();
  if (!row) throw notFound('No such channel');
  const { community_id, ...channel } = row;
  return toChannel(channel, community_id);
}

/** A group's channels in display order. */
export async function listChannels(db: Db, groupId: string, communityId: string): Promise<z.input<typeof Channel>[]> {
  const rows = await db
    .selectFrom('channels')
    .selectAll()
    .where('group_id', '=', groupId)
    .orderBy('position')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => toChannel(r, communityId));
}

/** The members of a group channel: its group's members, with their group role. */
export async function channelMembers(db: Db, channel: { group_id: string }): Promise<z.input<typeof ChannelMember>[]> {
  const rows = await groupMembersQuery(db, channel.group_id).execute();
  return rows.map(toGroupMember);
}

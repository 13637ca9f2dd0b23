import type { Dm } from '@chatalot/protocol';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { CARD_COLUMNS, toUserCard } from './views.js';

export type DmKind = 'dm' | 'group_dm';

/** The 1:1 DM key of two users: their ids sorted and joined with ':' (unique in channels). */
export const dmKey = (a: string, b: string) => [a, b].sort().join(':');

/** Plain data access for DM channels; no policy here. */
export class DmRepo {
  constructor(private readonly db: Kysely<DB>) {}

  /** The kind of a channel when it is a DM, else null (group channels and unknown ids). */
  async dmKind(channelId: string): Promise<DmKind | null> {
    const row = await this.db
      .selectFrom('channels')
      .select(['kind', 'group_id'])
      .where('id', '=', channelId)
      .executeTakeFirst();
    if (!row || row.group_id !== null) return null;
    return row.kind === 'dm' || row.kind === 'group_dm' ? row.kind : null;
  }

  async findByKey(key: string): Promise<string | null> {
    const row = await this.db.selectFrom('channels').select('id').where('dm_key', '=', key).executeTakeFirst();
    return row?.id ?? null;
  }

  async memberIds(channelId: string, db: Kysely<DB> = this.db): Promise<string[]> {
    const rows = await db.selectFrom('channel_members').select('user_id').where('channel_id', '=', channelId).execute();
    return rows.map((r) => r.user_id);
  }

  /**
   * The viewer's DMs (or just `onlyId`), newest activity first, each with its other members.
   * Both queries join on the viewer's own membership, so a DM they are not in never appears.
   */
  async views(viewerId: string, onlyId?: string): Promise<Dm[]> {
    let channels = this.db
      .selectFrom('channels as c')
      .innerJoin('channel_members as me', (join) =>
        join.onRef('me.channel_id', '=', 'c.id').on('me.user_id', '=', viewerId),
      )
      .select(['c.id', 'c.kind', 'c.name', 'c.created_at', 'c.updated_at'])
      .where('c.group_id', 'is', null)
      .where('c.kind', 'in', ['dm', 'group_dm']);
    if (onlyId) channels = channels.where('c.id', '=', onlyId);
    const rows = await channels.orderBy('c.updated_at', 'desc').orderBy('c.id').execute();

    let members = this.db
      .selectFrom('channel_members as cm')
      .innerJoin('channel_members as me', (join) =>
        join.onRef('me.channel_id', '=', 'cm.channel_id').on('me.user_id', '=', viewerId),
      )
      .innerJoin('users as u', 'u.id', 'cm.user_id')
      .select(['cm.channel_id', ...CARD_COLUMNS.map((c) => `u.${c}` as const)])
      .where('cm.user_id', '!=', viewerId);
    if (onlyId) members = members.where('cm.channel_id', '=', onlyId);
    const memberRows = await members.orderBy('cm.joined_at').orderBy('u.username_lower').execute();

    const byChannel = new Map<string, Dm['members']>();
    for (const m of memberRows) {
      const list = byChannel.get(m.channel_id) ?? [];
      list.push(toUserCard(m));
      byChannel.set(m.channel_id, list);
    }
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind as DmKind,
      name: r.kind === 'group_dm' ? r.name : '',
      members: byChannel.get(r.id) ?? [],
      created_at: r.created_at,
      updated_at: r.updated_at,
    }));
  }
}

import { randomUUID } from 'node:crypto';
import { DM_LIMITS, type Dm } from '@chatalot/protocol';
import type { Actor } from '../auth/authenticate.js';
import { isUniqueViolation } from '../db/errors.js';
import { AppError, badRequest, conflict, notFound } from '../errors.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { topics } from '../spaces/events.js';
import type { Reach } from './reach.js';
import { dmKey, DmRepo, type DmKind } from './repo.js';

/**
 * DMs and group DMs. A DM is a channel without a group whose members are listed in
 * channel_members; the permission module lets only those members see it, never a third
 * party (instance admins included). Who may be invited is decided by `Reach`.
 */
export class DmService {
  private readonly repo: DmRepo;

  constructor(
    private readonly deps: SpacesDeps,
    private readonly reach: Reach,
  ) {
    this.repo = new DmRepo(deps.db);
  }

  list(actor: Actor): Promise<Dm[]> {
    return this.repo.views(actor.userId);
  }

  async get(actor: Actor, channelId: string): Promise<Dm> {
    await this.requireDm(actor, channelId);
    return this.view(actor, channelId);
  }

  /**
   * Gets or creates the 1:1 DM with `userId`. An existing DM is returned as is (blocking
   * keeps existing DMs); creating one needs reach and no block. Race-safe: concurrent
   * callers collide on the unique dm_key and the losers return the winner's channel.
   */
  async open(actor: Actor, userId: string): Promise<{ dm: Dm; created: boolean }> {
    if (userId === actor.userId) throw badRequest('You cannot start a DM with yourself');
    const key = dmKey(actor.userId, userId);
    const existing = await this.repo.findByKey(key);
    if (existing) return { dm: await this.view(actor, existing), created: false };

    await this.reach.requireReachable(actor, [userId]);
    await this.reach.requireNoBlock([actor.userId], [userId]);
    const id = randomUUID();
    const members = [actor.userId, userId];
    try {
      await this.insertChannel(id, 'dm', '', key, actor.userId, members);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const winner = await this.repo.findByKey(key);
      if (!winner) throw err;
      return { dm: await this.view(actor, winner), created: false };
    }
    await this.announceCreated(id, 'dm', members);
    return { dm: await this.view(actor, id), created: true };
  }

  /** Creates a group DM of the actor and 2–9 others, all reachable by the actor. */
  async createGroup(actor: Actor, userIds: string[], name: string): Promise<Dm> {
    const others = [...new Set(userIds)];
    if (others.includes(actor.userId)) throw badRequest('Do not list yourself: you are added automatically');
    if (others.length < 2) throw badRequest('A group DM needs at least 2 other people');
    await this.reach.requireReachable(actor, others);
    const members = [actor.userId, ...others];
    // Stricter than creator↔invitee: nobody is put in a conversation with someone they blocked.
    await this.reach.requireNoBlock(members, members);
    const id = randomUUID();
    await this.insertChannel(id, 'group_dm', name, null, actor.userId, members);
    await this.announceCreated(id, 'group_dm', members);
    return this.view(actor, id);
  }

  /** Adds a reachable user to a group DM the actor is in, up to DM_LIMITS.groupDmMembers. */
  async addMember(actor: Actor, channelId: string, userId: string): Promise<Dm> {
    const kind = await this.requireDm(actor, channelId);
    if (kind === 'dm') throw badRequest('A 1:1 DM cannot get more members; start a group DM instead');
    await this.reach.requireReachable(actor, [userId]);
    const now = this.deps.now();
    const members = await this.deps.db.transaction().execute(async (trx) => {
      // Touching the row first serialises concurrent adders on PostgreSQL (row lock), so the
      // count below cannot be raced past the limit; SQLite serialises writers anyway.
      await this.lock(trx, channelId, now);
      const current = await this.repo.memberIds(channelId, trx);
      if (!current.includes(actor.userId)) throw notFound('No such channel');
      if (current.includes(userId)) throw conflict('That user is already in this group DM');
      if (current.length >= DM_LIMITS.groupDmMembers) {
        throw new AppError('limit_reached', `A group DM holds at most ${DM_LIMITS.groupDmMembers} people`);
      }
      await this.reach.requireNoBlock([userId], current, trx);
      await trx
        .insertInto('channel_members')
        .values({ channel_id: channelId, user_id: userId, joined_at: now })
        .execute();
      return [...current, userId];
    });
    await this.deps.events.publish(
      { type: 'member.joined', channel_id: channelId, user_id: userId, added_by: actor.userId },
      topics.channel(channelId),
    );
    await this.deps.events.publish(
      { type: 'dm.created', channel_id: channelId, kind, member_ids: members },
      topics.user(userId),
    );
    return this.view(actor, channelId);
  }

  /** Leaves a group DM; the last one out deletes it. 1:1 DMs cannot be left, only hidden. */
  async leave(actor: Actor, channelId: string): Promise<void> {
    const kind = await this.requireDm(actor, channelId);
    if (kind === 'dm') throw badRequest('A 1:1 DM cannot be left; hide it instead');
    await this.deps.db.transaction().execute(async (trx) => {
      await this.lock(trx, channelId, this.deps.now());
      const gone = await trx
        .deleteFrom('channel_members')
        .where('channel_id', '=', channelId)
        .where('user_id', '=', actor.userId)
        .executeTakeFirst();
      if (Number(gone.numDeletedRows) !== 1) throw notFound('No such channel');
      if ((await this.repo.memberIds(channelId, trx)).length === 0) {
        await trx.deleteFrom('channels').where('id', '=', channelId).execute();
      }
    });
    await this.deps.events.publish(
      { type: 'member.left', channel_id: channelId, user_id: actor.userId },
      topics.channel(channelId),
      topics.user(actor.userId),
    );
  }

  /** Renames a group DM; any member may, as in other chat apps. */
  async rename(actor: Actor, channelId: string, name: string): Promise<Dm> {
    const kind = await this.requireDm(actor, channelId);
    if (kind === 'dm') throw badRequest('Only group DMs have a name');
    await this.deps.db
      .updateTable('channels')
      .set({ name, updated_at: this.deps.now() })
      .where('id', '=', channelId)
      .execute();
    await this.deps.events.publish({ type: 'channel.updated', channel_id: channelId, name }, topics.channel(channelId));
    return this.view(actor, channelId);
  }

  /**
   * A DM the actor is a member of, through the permission module. Group channels answer
   * `not_found` like unknown ids, so these routes reveal nothing about other places.
   */
  private async requireDm(actor: Actor, channelId: string): Promise<DmKind> {
    const kind = await this.repo.dmKind(channelId);
    if (!kind) throw notFound('No such channel');
    await this.deps.permissions.require(actor, 'channel.view', channelId);
    return kind;
  }

  private async view(actor: Actor, channelId: string): Promise<Dm> {
    const [dm] = await this.repo.views(actor.userId, channelId);
    if (!dm) throw notFound('No such channel');
    return dm;
  }

  private async lock(trx: SpacesDeps['db'], channelId: string, now: number): Promise<void> {
    const touched = await trx
      .updateTable('channels')
      .set({ updated_at: now })
      .where('id', '=', channelId)
      .executeTakeFirst();
    if (Number(touched.numUpdatedRows) !== 1) throw notFound('No such channel');
  }

  private async insertChannel(
    id: string,
    kind: DmKind,
    name: string,
    key: string | null,
    createdBy: string,
    members: string[],
  ): Promise<void> {
    const now = this.deps.now();
    await this.deps.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('channels')
        .values({
          id,
          group_id: null,
          kind,
          name,
          dm_key: key,
          archived_at: null,
          message_ttl_secs: null,
          voice_background: null,
          created_by: createdBy,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await trx
        .insertInto('channel_members')
        .values(members.map((user_id) => ({ channel_id: id, user_id, joined_at: now })))
        .execute();
    });
  }

  private async announceCreated(channelId: string, kind: DmKind, members: string[]): Promise<void> {
    await this.deps.events.publish(
      { type: 'dm.created', channel_id: channelId, kind, member_ids: members },
      ...members.map((m) => topics.user(m)),
    );
  }
}

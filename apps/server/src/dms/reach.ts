import type { ExpressionBuilder, Kysely } from 'kysely';
import { isInstanceAdmin, type Actor } from '../auth/authenticate.js';
import type { DB } from '../db/schema.js';
import { AppError, notFound } from '../errors.js';

type MemberAlias = 'mine' | 'theirs';

/** A community membership row that is not contradicted by a ban in the same community. */
function notBanned(alias: MemberAlias) {
  return (eb: ExpressionBuilder<DB & Record<MemberAlias, DB['community_members']>, MemberAlias>) =>
    eb.not(
      eb.exists(
        eb
          .selectFrom('community_bans as b')
          .select('b.user_id')
          .whereRef('b.community_id', '=', `${alias}.community_id`)
          .whereRef('b.user_id', '=', `${alias}.user_id`),
      ),
    );
}

/** The one answer to "is there a block between these people?", whoever blocked whom. */
export const blockedError = () => new AppError('blocked', 'You cannot start a conversation with this user');

/**
 * Who may reach whom outside a shared place: DMs, user search and profiles are limited to
 * people who share at least one community (banned users are not members). Instance admins
 * are exempt as the *acting* side: an admin may find and DM anyone, while a regular user
 * cannot reach an admin they share no community with (an admin-started DM still works both
 * ways once it exists). Blocks in either direction stop new conversations.
 */
export class Reach {
  constructor(private readonly db: Kysely<DB>) {}

  /** The subset of `others` that share a community with `userId`. */
  async sharingWith(userId: string, others: readonly string[]): Promise<Set<string>> {
    if (others.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('community_members as mine')
      .innerJoin('community_members as theirs', 'theirs.community_id', 'mine.community_id')
      .select('theirs.user_id')
      .distinct()
      .where('mine.user_id', '=', userId)
      .where('theirs.user_id', 'in', [...others])
      .where(notBanned('mine'))
      .where(notBanned('theirs'))
      .execute();
    return new Set(rows.map((r) => r.user_id));
  }

  /**
   * The subset of `userIds` the actor may address end to end (key bundles, device messages):
   * active (not suspended) users who are the actor, share a community with them, or are
   * already in a DM or group DM with them (an admin-started DM keeps working both ways);
   * every active user for instance admins.
   */
  async contactable(actor: Actor, userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const active = await this.db
      .selectFrom('users')
      .select('id')
      .where('id', 'in', [...userIds])
      .where('suspended_at', 'is', null)
      .execute();
    const candidates = active.map((u) => u.id);
    if (isInstanceAdmin(actor)) return new Set(candidates);
    const allowed = await this.sharingWith(actor.userId, candidates);
    if (candidates.includes(actor.userId)) allowed.add(actor.userId);
    const rest = candidates.filter((id) => !allowed.has(id));
    if (rest.length === 0) return allowed;
    const dmPeers = await this.db
      .selectFrom('channel_members as mine')
      .innerJoin('channel_members as theirs', 'theirs.channel_id', 'mine.channel_id')
      .innerJoin('channels as c', 'c.id', 'mine.channel_id')
      .select('theirs.user_id')
      .where('mine.user_id', '=', actor.userId)
      .where('theirs.user_id', 'in', rest)
      .where('c.group_id', 'is', null)
      .execute();
    for (const row of dmPeers) allowed.add(row.user_id);
    return allowed;
  }

  /** Whether the actor may see this user's profile and find them in search. */
  async canSee(actor: Actor, userId: string): Promise<boolean> {
    if (userId === actor.userId || isInstanceAdmin(actor)) return true;
    return (await this.sharingWith(actor.userId, [userId])).has(userId);
  }

  /**
   * Throws `not_found` unless every user exists, is not suspended and is reachable by the
   * actor. Unknown and unreachable users get the same answer, so ids cannot be probed.
   */
  async requireReachable(actor: Actor, userIds: readonly string[]): Promise<void> {
    const found = await this.db
      .selectFrom('users')
      .select('id')
      .where('id', 'in', [...userIds])
      .where('suspended_at', 'is', null)
      .execute();
    const reachable = isInstanceAdmin(actor)
      ? new Set(found.map((r) => r.id))
      : await this.sharingWith(
          actor.userId,
          found.map((r) => r.id),
        );
    if (userIds.some((id) => !reachable.has(id))) throw notFound('No such user');
  }

  /**
   * Throws `blocked` when any of `newcomers` and any of `everyone` blocked the other (either
   * direction). The message never says who blocked whom. Pass `db` inside a transaction.
   */
  async requireNoBlock(
    newcomers: readonly string[],
    everyone: readonly string[],
    db: Kysely<DB> = this.db,
  ): Promise<void> {
    const row = await db
      .selectFrom('user_blocks')
      .select('blocker_id')
      .where((eb) =>
        eb.or([
          eb.and([eb('blocker_id', 'in', [...newcomers]), eb('blocked_id', 'in', [...everyone])]),
          eb.and([eb('blocker_id', 'in', [...everyone]), eb('blocked_id', 'in', [...newcomers])]),
        ]),
      )
      .executeTakeFirst();
    if (row) throw blockedError();
  }
}

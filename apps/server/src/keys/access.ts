import type { Kysely } from 'kysely';
import { isInstanceAdmin, type Actor } from '../auth/authenticate.js';
import type { DB } from '../db/schema.js';
import { Reach } from '../dms/reach.js';
import { notFound } from '../errors.js';
import type { KeysRepo } from './repo.js';

/**
 * Whose keys an actor may read: their own; anyone's for instance admins; otherwise users
 * they may contact, i.e. who share a community with them (`Reach`, the rule of DMs and
 * search) or who are already in a DM or group DM with them (an admin-started DM keeps
 * working both ways). Suspended users' keys are not handed out. Unknown and unreachable
 * users get the same `not_found`, so ids cannot be probed.
 */
export class KeyAccess {
  private readonly reach: Reach;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly repo: KeysRepo,
  ) {
    this.reach = new Reach(db);
  }

  async requireContact(actor: Actor, userId: string): Promise<void> {
    if (userId === actor.userId) return;
    const user = await this.db
      .selectFrom('users')
      .select('id')
      .where('id', '=', userId)
      .where('suspended_at', 'is', null)
      .executeTakeFirst();
    if (!user) throw notFound('No such user');
    if (isInstanceAdmin(actor)) return;
    if ((await this.reach.sharingWith(actor.userId, [userId])).has(userId)) return;
    if (await this.repo.shareDm(actor.userId, userId)) return;
    throw notFound('No such user');
  }
}

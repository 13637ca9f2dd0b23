import type { Kysely } from 'kysely';
import type { Actor } from '../auth/authenticate.js';
import type { DB } from '../db/schema.js';
import { Reach } from '../dms/reach.js';
import { notFound } from '../errors.js';

/**
 * Whose keys an actor may read: the users they may contact end to end (`Reach.contactable`:
 * themselves, people sharing a community or a DM with them, anyone for instance admins; never
 * suspended users). Unknown and unreachable users get the same `not_found`, so ids cannot be
 * probed.
 */
export class KeyAccess {
  private readonly reach: Reach;

  constructor(db: Kysely<DB>) {
    this.reach = new Reach(db);
  }

  async requireContact(actor: Actor, userId: string): Promise<void> {
    if (!(await this.reach.contactable(actor, [userId])).has(userId)) throw notFound('No such user');
  }
}

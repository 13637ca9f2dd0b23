import type { Kysely, Selectable } from 'kysely';
import type { DB, ProvisioningSessionsTable } from '../db/schema.js';

type Db = Kysely<DB>;
export type ProvisioningRow = Selectable<ProvisioningSessionsTable>;

/** Provisioning sessions. Every read is scoped to the owner and skips expired rows. */
export class ProvisioningRepo {
  constructor(private readonly db: Db) {}

  async insert(row: ProvisioningRow): Promise<void> {
    await this.db.insertInto('provisioning_sessions').values(row).execute();
  }

  /** Drops every expired session (and its envelope). */
  async purgeExpired(now: number): Promise<number> {
    const result = await this.db.deleteFrom('provisioning_sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async openCount(userId: string, now: number): Promise<number> {
    const row = await this.db
      .selectFrom('provisioning_sessions')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('user_id', '=', userId)
      .where('expires_at', '>', now)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  find(userId: string, id: string, now: number): Promise<ProvisioningRow | undefined> {
    return this.db
      .selectFrom('provisioning_sessions')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('expires_at', '>', now)
      .executeTakeFirst();
  }

  /** Stores the envelope unless the session already has one; true when it was stored. */
  async setEnvelope(userId: string, id: string, envelope: string, approverSessionId: string, now: number) {
    const result = await this.db
      .updateTable('provisioning_sessions')
      .set({ envelope, approver_session_id: approverSessionId })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('envelope', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async delete(userId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('provisioning_sessions')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}

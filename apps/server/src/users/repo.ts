import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { DB, UsersTable } from '../db/schema.js';

export type UserRow = Selectable<UsersTable>;

/** Plain data access for users; no policy here. */
export class UsersRepo {
  constructor(private readonly db: Kysely<DB>) {}

  findById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByUsername(username: string): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('username_lower', '=', username.toLowerCase())
      .executeTakeFirst();
  }

  async usernameTaken(username: string): Promise<boolean> {
    return (await this.findByUsername(username)) !== undefined;
  }

  async emailTaken(email: string, exceptUserId?: string): Promise<boolean> {
    let q = this.db.selectFrom('users').select('id').where('email_lower', '=', email.toLowerCase());
    if (exceptUserId) q = q.where('id', '!=', exceptUserId);
    return (await q.executeTakeFirst()) !== undefined;
  }

  async insert(row: Insertable<UsersTable>, db: Kysely<DB> = this.db): Promise<void> {
    await db.insertInto('users').values(row).execute();
  }

  async update(id: string, changes: Updateable<UsersTable>): Promise<void> {
    await this.db.updateTable('users').set(changes).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('users').where('id', '=', id).execute();
  }

  async anyAdmin(): Promise<boolean> {
    const row = await this.db
      .selectFrom('users')
      .select('id')
      .where('instance_role', 'in', ['owner', 'admin'])
      .executeTakeFirst();
    return row !== undefined;
  }
}

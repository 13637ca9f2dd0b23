import { type Kysely, sql } from 'kysely';

/**
 * The indexes on messages' thread root, expiry and deletion time hold only the rows that have
 * one. Most messages have none of the three, yet every insert wrote a NULL entry into each
 * index: three of the nine pages a one-message commit wrote to the WAL. Every query that uses
 * them compares the column (`thread_root = ?`, `expires_at <= ?`, `deleted_at < ?`), which
 * implies it is not null, so SQLite and PostgreSQL use the partial index for it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of ['thread_root', 'expires_at', 'deleted_at']) {
    const name = `messages_${column}`;
    await db.schema.dropIndex(name).execute();
    await db.schema.createIndex(name).on('messages').column(column).where(sql.ref(column), 'is not', null).execute();
  }
}

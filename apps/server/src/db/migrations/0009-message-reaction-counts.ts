import { type Kysely, sql } from 'kysely';

/**
 * `messages.reaction_count`: how many reactions a message has, kept in the same transaction
 * as every reaction added or removed. A history page then asks `message_reactions` only about
 * the messages that have some (most have none) instead of probing its index once per message:
 * that probe was a fifth of the database work of a history page.
 *
 * The count is a hint that errs only upwards: a reaction removed by a cascade (its user
 * deleted) leaves it high, which costs one lookup that finds nothing. It is never low, so no
 * reaction is ever hidden.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('messages')
    .addColumn('reaction_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`
    UPDATE messages
    SET reaction_count = (SELECT count(*) FROM message_reactions r WHERE r.message_id = messages.id)
    WHERE id IN (SELECT DISTINCT message_id FROM message_reactions)
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').dropColumn('reaction_count').execute();
}

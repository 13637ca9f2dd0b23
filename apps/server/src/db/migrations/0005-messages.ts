import type { Kysely } from 'kysely';

/**
 * Messages and what hangs off them (PRODUCT.md §4). Bodies are opaque ciphertext kept as the
 * base64 text clients send: the server never decodes them. `channels.last_seq` is the
 * per-channel counter: the insert transaction increments it, so sequence numbers are
 * gap-free and follow commit order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('channels')
    .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('channel_id', 'text', (c) => c.notNull().references('channels.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    // Kept when the account is deleted: the message stays, attributed to nobody.
    .addColumn('sender_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('scheme', 'text', (c) => c.notNull())
    .addColumn('distribution_id', 'text')
    .addColumn('device_id', 'bigint')
    .addColumn('reply_to', 'text')
    .addColumn('thread_root', 'text')
    .addColumn('forwarded_from', 'text')
    .addColumn('mentions', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('mention_everyone', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('edited_at', 'bigint')
    .addColumn('deleted_at', 'bigint')
    .addColumn('expires_at', 'bigint')
    .addColumn('pinned_at', 'bigint')
    .addColumn('pinned_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addUniqueConstraint('messages_channel_seq', ['channel_id', 'seq'])
    .addUniqueConstraint('messages_sender_nonce', ['sender_id', 'nonce'])
    .execute();
  await db.schema.createIndex('messages_thread_root').on('messages').column('thread_root').execute();
  await db.schema.createIndex('messages_expires_at').on('messages').column('expires_at').execute();
  await db.schema.createIndex('messages_deleted_at').on('messages').column('deleted_at').execute();
  await db.schema
    .createIndex('messages_channel_sender')
    .on('messages')
    .columns(['channel_id', 'sender_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('message_versions')
    .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('message_versions_pk', ['message_id', 'version'])
    .execute();

  await db.schema
    .createTable('message_reactions')
    .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('emoji', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('message_reactions_pk', ['message_id', 'user_id', 'emoji'])
    .execute();

  await db.schema
    .createTable('read_states')
    .addColumn('channel_id', 'text', (c) => c.notNull().references('channels.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('read_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('read_states_pk', ['channel_id', 'user_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['read_states', 'message_reactions', 'message_versions', 'messages']) {
    await db.schema.dropTable(table).execute();
  }
  await db.schema.alterTable('channels').dropColumn('last_seq').execute();
}

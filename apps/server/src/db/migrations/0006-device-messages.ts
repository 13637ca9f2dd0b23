import type { Kysely } from 'kysely';

/**
 * The device inbox: ciphertext addressed to one device of one user, kept until that device
 * acknowledges it (or 30 days pass). Removing a device drops its inbox.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('device_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('recipient_id', 'text', (c) => c.notNull())
    .addColumn('recipient_device_id', 'integer', (c) => c.notNull())
    .addColumn('sender_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('sender_device_id', 'integer', (c) => c.notNull())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addForeignKeyConstraint(
      'device_messages_recipient',
      ['recipient_id', 'recipient_device_id'],
      'devices',
      ['user_id', 'device_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('device_messages_inbox')
    .on('device_messages')
    .columns(['recipient_id', 'recipient_device_id', 'created_at', 'id'])
    .execute();
  await db.schema.createIndex('device_messages_created').on('device_messages').column('created_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('device_messages').execute();
}

import type { Kysely } from 'kysely';

/**
 * Provisioning sessions (linking a new device): the new device's ephemeral public key and,
 * once another signed-in session of the same user approved, one opaque envelope for it. Rows
 * live ten minutes; the envelope is ciphertext the server never decodes. Device labels: each
 * device's own name and when it last reported itself, for the devices list.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('provisioning_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('creator_session_id', 'text', (c) => c.notNull())
    .addColumn('ephemeral_key', 'text', (c) => c.notNull())
    .addColumn('device_name', 'text', (c) => c.notNull())
    .addColumn('envelope', 'text')
    .addColumn('approver_session_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('provisioning_sessions_user')
    .on('provisioning_sessions')
    .columns(['user_id', 'expires_at'])
    .execute();
  await db.schema
    .createIndex('provisioning_sessions_expires')
    .on('provisioning_sessions')
    .column('expires_at')
    .execute();

  // How each device names itself and when it last started its encryption session (settings).
  await db.schema
    .createTable('device_labels')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_labels_pk', ['user_id', 'device_id'])
    .addForeignKeyConstraint(
      'device_labels_device',
      ['user_id', 'device_id'],
      'devices',
      ['user_id', 'device_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('device_labels').execute();
  await db.schema.dropTable('provisioning_sessions').execute();
}

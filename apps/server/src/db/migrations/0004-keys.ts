import type { Kysely } from 'kysely';

/**
 * The key service (PRODUCT.md §5): one identity key per user, devices with their signed
 * prekey, and unclaimed one-time prekeys. Public keys only, stored as unpadded base64url text.
 * Prekey ids are u32, hence BIGINT (PostgreSQL's INTEGER is signed 32-bit).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('identity_keys')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('public_key', 'text', (c) => c.notNull())
    // Device ids are handed out in order and never reused, so a stale session can never
    // address a different device.
    .addColumn('next_device_id', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('devices')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('device_id', 'integer', (c) => c.notNull())
    .addColumn('signed_prekey_id', 'bigint', (c) => c.notNull())
    .addColumn('signed_prekey', 'text', (c) => c.notNull())
    .addColumn('signed_prekey_signature', 'text', (c) => c.notNull())
    .addColumn('signed_prekey_updated_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('devices_pk', ['user_id', 'device_id'])
    .execute();

  await db.schema
    .createTable('one_time_prekeys')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'integer', (c) => c.notNull())
    .addColumn('key_id', 'bigint', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('one_time_prekeys_pk', ['user_id', 'device_id', 'key_id'])
    .addForeignKeyConstraint(
      'one_time_prekeys_device',
      ['user_id', 'device_id'],
      'devices',
      ['user_id', 'device_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['one_time_prekeys', 'devices', 'identity_keys']) {
    await db.schema.dropTable(table).execute();
  }
}

import type { Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB, DevicesTable } from '../db/schema.js';

type Db = Kysely<DB>;

export interface PreKeyRow {
  key_id: number;
  public_key: string;
}

/** Identity keys, devices and one-time prekeys. Plain rows in, plain rows out. */
export class KeysRepo {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  identityKey(userId: string, db: Db = this.db): Promise<string | undefined> {
    return db
      .selectFrom('identity_keys')
      .select('public_key')
      .where('user_id', '=', userId)
      .executeTakeFirst()
      .then((r) => r?.public_key);
  }

  /**
   * Creates the user's identity row if there is none, then takes the next device id. The
   * update also row-locks the identity on PostgreSQL (SQLite runs one transaction at a
   * time), so concurrent registrations of one user are serialised. Call inside a transaction.
   */
  async allocateDeviceId(trx: Db, userId: string, identityKey: string, now: number) {
    await trx
      .insertInto('identity_keys')
      .values({ user_id: userId, public_key: identityKey, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .execute();
    const row = await trx
      .updateTable('identity_keys')
      .set((eb) => ({ next_device_id: eb('next_device_id', '+', 1) }))
      .where('user_id', '=', userId)
      .returning(['public_key', 'next_device_id'])
      .executeTakeFirstOrThrow();
    return { identityKey: row.public_key, deviceId: row.next_device_id - 1 };
  }

  async replaceIdentityKey(trx: Db, userId: string, identityKey: string, now: number): Promise<void> {
    await trx
      .updateTable('identity_keys')
      .set({ public_key: identityKey, updated_at: now })
      .where('user_id', '=', userId)
      .execute();
  }

  /** Deletes every device of the user (their one-time prekeys go with them); returns their ids. */
  async deleteAllDevices(trx: Db, userId: string): Promise<number[]> {
    const rows = await trx.deleteFrom('devices').where('user_id', '=', userId).returning('device_id').execute();
    return rows.map((r) => r.device_id);
  }

  async deviceCount(trx: Db, userId: string): Promise<number> {
    const row = await trx
      .selectFrom('devices')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async insertDevice(trx: Db, device: DevicesTable): Promise<void> {
    await trx.insertInto('devices').values(device).execute();
  }

  /** The user's devices, oldest first; only `deviceIds` when given. */
  devices(userId: string, deviceIds?: readonly number[]): Promise<DevicesTable[]> {
    let query = this.db.selectFrom('devices').selectAll().where('user_id', '=', userId);
    if (deviceIds) {
      if (deviceIds.length === 0) return Promise.resolve([]);
      query = query.where('device_id', 'in', [...deviceIds]);
    }
    return query.orderBy('device_id').execute();
  }

  async deleteDevice(userId: string, deviceId: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('devices')
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async replaceSignedPreKey(
    userId: string,
    deviceId: number,
    spk: { key_id: number; public_key: string; signature: string },
    now: number,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('devices')
      .set({
        signed_prekey_id: spk.key_id,
        signed_prekey: spk.public_key,
        signed_prekey_signature: spk.signature,
        signed_prekey_updated_at: now,
      })
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Touches the device row so that concurrent uploads to one device are serialised on
   * PostgreSQL (row lock until commit). False when the device does not exist.
   */
  async lockDevice(trx: Db, userId: string, deviceId: number): Promise<boolean> {
    const result = await trx
      .updateTable('devices')
      .set((eb) => ({ created_at: eb.ref('created_at') }))
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async oneTimePreKeyCount(userId: string, deviceId: number, db: Db = this.db): Promise<number> {
    const row = await db
      .selectFrom('one_time_prekeys')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Unclaimed one-time prekeys per device of the user. */
  async oneTimePreKeyCounts(userId: string): Promise<Map<number, number>> {
    const rows = await this.db
      .selectFrom('one_time_prekeys')
      .select(['device_id', (eb) => eb.fn.countAll().as('n')])
      .where('user_id', '=', userId)
      .groupBy('device_id')
      .execute();
    return new Map(rows.map((r) => [r.device_id, Number(r.n)]));
  }

  /** Which of `keyIds` the device already holds unclaimed. */
  async existingKeyIds(trx: Db, userId: string, deviceId: number, keyIds: readonly number[]): Promise<number[]> {
    if (keyIds.length === 0) return [];
    const rows = await trx
      .selectFrom('one_time_prekeys')
      .select('key_id')
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .where('key_id', 'in', [...keyIds])
      .execute();
    return rows.map((r) => r.key_id);
  }

  async insertOneTimePreKeys(trx: Db, userId: string, deviceId: number, keys: readonly PreKeyRow[]): Promise<void> {
    if (keys.length === 0) return;
    await trx
      .insertInto('one_time_prekeys')
      .values(keys.map((k) => ({ user_id: userId, device_id: deviceId, key_id: k.key_id, public_key: k.public_key })))
      .execute();
  }

  /**
   * Claims one one-time prekey of the device: deletes it and returns it, in one statement, so
   * no key is ever handed out twice. On PostgreSQL the row is picked `FOR UPDATE SKIP LOCKED`:
   * concurrent claims each lock a different row instead of queueing on the same one (and
   * then finding it gone). SQLite runs one write at a time, so the statement is atomic as is.
   */
  async claimOneTimePreKey(userId: string, deviceId: number): Promise<PreKeyRow | undefined> {
    const pick = this.db
      .selectFrom('one_time_prekeys')
      .select('key_id')
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .orderBy('key_id')
      .limit(1);
    return this.db
      .deleteFrom('one_time_prekeys')
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .where('key_id', '=', this.dialect === 'postgres' ? pick.forUpdate().skipLocked() : pick)
      .returning(['key_id', 'public_key'])
      .executeTakeFirst();
  }

  /**
   * The topics that reach the user's contacts: each community they belong to (everyone who
   * may fetch their keys shares one, PRODUCT.md §3) and each DM or group DM they are in.
   */
  async contactTopics(userId: string): Promise<{ communities: string[]; channels: string[] }> {
    const communities = await this.db
      .selectFrom('community_members')
      .select('community_id')
      .where('user_id', '=', userId)
      .execute();
    const channels = await this.db
      .selectFrom('channel_members as m')
      .innerJoin('channels as c', 'c.id', 'm.channel_id')
      .select('c.id')
      .where('m.user_id', '=', userId)
      .where('c.kind', 'in', ['dm', 'group_dm'])
      .execute();
    return { communities: communities.map((r) => r.community_id), channels: channels.map((r) => r.id) };
  }
}

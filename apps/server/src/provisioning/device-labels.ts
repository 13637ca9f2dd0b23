import type { DeviceLabel, DeviceLabelList } from '@chatalot/protocol';
import type { Kysely } from 'kysely';
import type { Actor } from '../auth/authenticate.js';
import type { DB } from '../db/schema.js';
import { notFound } from '../errors.js';

/**
 * Device labels: the key service knows a user's devices by number only; each device reports
 * how it names itself ("Firefox on Linux") when its encryption session starts, which also
 * records when it was last seen. Only the owner reads or writes them.
 */
export class DeviceLabels {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly now: () => number,
  ) {}

  /** Records the name of one of the caller's devices and that it was seen now. */
  async report(actor: Actor, deviceId: number, name: string): Promise<DeviceLabel> {
    const device = await this.db
      .selectFrom('devices')
      .select('device_id')
      .where('user_id', '=', actor.userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    if (!device) throw notFound('No such device');
    const row = { user_id: actor.userId, device_id: deviceId, name, last_seen_at: this.now() };
    await this.db
      .insertInto('device_labels')
      .values(row)
      .onConflict((oc) => oc.columns(['user_id', 'device_id']).doUpdateSet({ name, last_seen_at: row.last_seen_at }))
      .execute();
    return { device_id: deviceId, name, last_seen_at: row.last_seen_at };
  }

  async list(actor: Actor): Promise<DeviceLabelList> {
    const rows = await this.db
      .selectFrom('device_labels')
      .select(['device_id', 'name', 'last_seen_at'])
      .where('user_id', '=', actor.userId)
      .orderBy('device_id')
      .execute();
    return { labels: rows.map((r) => ({ ...r, last_seen_at: Number(r.last_seen_at) })) };
  }
}

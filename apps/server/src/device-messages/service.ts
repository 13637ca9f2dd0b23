import { randomUUID } from 'node:crypto';
import { DEVICE_MESSAGE_LIMITS, type DeviceMessage, type SendDeviceMessages } from '@chatalot/protocol';
import type { Kysely } from 'kysely';
import type { Actor } from '../auth/authenticate.js';
import type { DB } from '../db/schema.js';
import { Reach } from '../dms/reach.js';
import { notFound } from '../errors.js';
import type { SpaceEvents } from '../spaces/events.js';
import { topics } from '../spaces/events.js';

export interface DeviceMessageDeps {
  db: Kysely<DB>;
  events: SpaceEvents;
  now: () => number;
}

interface Address {
  user_id: string;
  device_id: number;
}

export interface SendResult {
  delivered: number;
  /** Devices that do not exist (any more): the sender should refresh that user's device list. */
  unknown_devices: Address[];
  /** Devices whose inbox is full: nothing was stored for them. */
  full_devices: Address[];
}

const key = (a: Address) => `${a.user_id}:${a.device_id}`;

/**
 * The device inbox (PRODUCT.md §5): pairwise ciphertext from one device to another, stored
 * until the recipient device acknowledges it and pushed live to its sockets. Only people the
 * sender may contact can be addressed (the rule of DMs and key bundles); unknown recipients
 * and unknown devices are indistinguishable.
 */
export class DeviceMessageService {
  private readonly reach: Reach;

  constructor(private readonly deps: DeviceMessageDeps) {
    this.reach = new Reach(deps.db);
  }

  async send(actor: Actor, input: SendDeviceMessages): Promise<SendResult> {
    await this.requireOwnDevice(actor.userId, input.sender_device_id);
    const recipients = [...new Set(input.messages.map((m) => m.user_id))];
    const reachable = await this.reach.contactable(actor, recipients);
    const existing = await this.existingDevices(recipients.filter((id) => reachable.has(id)));
    const pending = await this.pendingCounts(input.messages.filter((m) => existing.has(key(m))));

    const result: SendResult = { delivered: 0, unknown_devices: [], full_devices: [] };
    const now = this.deps.now();
    const rows = [];
    for (const m of input.messages) {
      const address = { user_id: m.user_id, device_id: m.device_id };
      if (!reachable.has(m.user_id) || !existing.has(key(m))) {
        result.unknown_devices.push(address);
        continue;
      }
      const count = pending.get(key(m)) ?? 0;
      if (count >= DEVICE_MESSAGE_LIMITS.pendingPerDevice) {
        result.full_devices.push(address);
        continue;
      }
      pending.set(key(m), count + 1);
      rows.push({
        id: randomUUID(),
        recipient_id: m.user_id,
        recipient_device_id: m.device_id,
        sender_id: actor.userId,
        sender_device_id: input.sender_device_id,
        ciphertext: m.ciphertext,
        created_at: now,
      });
    }
    if (rows.length > 0) await this.deps.db.insertInto('device_messages').values(rows).execute();
    result.delivered = rows.length;
    // After commit, so a device that fetches on the event finds the row.
    for (const row of rows) {
      const message: DeviceMessage = {
        id: row.id,
        sender_id: row.sender_id,
        sender_device_id: row.sender_device_id,
        ciphertext: row.ciphertext,
        created_at: row.created_at,
      };
      await this.deps.events.publish(
        { type: 'device.message', device_id: row.recipient_device_id, message },
        topics.user(row.recipient_id),
      );
    }
    return result;
  }

  /** The oldest undelivered envelopes of one of the actor's devices. */
  async fetch(
    actor: Actor,
    deviceId: number,
    limit: number,
  ): Promise<{ messages: DeviceMessage[]; has_more: boolean }> {
    await this.requireOwnDevice(actor.userId, deviceId);
    const rows = await this.deps.db
      .selectFrom('device_messages')
      .select(['id', 'sender_id', 'sender_device_id', 'ciphertext', 'created_at'])
      .where('recipient_id', '=', actor.userId)
      .where('recipient_device_id', '=', deviceId)
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    const messages = rows.slice(0, limit).map((r) => ({ ...r, created_at: Number(r.created_at) }));
    return { messages, has_more: rows.length > limit };
  }

  /** Deletes envelopes the device has processed; ids of other devices are ignored. */
  async ack(actor: Actor, deviceId: number, ids: readonly string[]): Promise<number> {
    await this.requireOwnDevice(actor.userId, deviceId);
    const deleted = await this.deps.db
      .deleteFrom('device_messages')
      .where('recipient_id', '=', actor.userId)
      .where('recipient_device_id', '=', deviceId)
      .where('id', 'in', ids)
      .executeTakeFirst();
    return Number(deleted.numDeletedRows);
  }

  /** Drops envelopes nobody picked up within the retention period; returns how many. */
  async purgeExpired(nowMs: number): Promise<number> {
    const deleted = await this.deps.db
      .deleteFrom('device_messages')
      .where('created_at', '<', nowMs - DEVICE_MESSAGE_LIMITS.retentionMs)
      .executeTakeFirst();
    return Number(deleted.numDeletedRows);
  }

  private async requireOwnDevice(userId: string, deviceId: number): Promise<void> {
    const device = await this.deps.db
      .selectFrom('devices')
      .select('device_id')
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    if (!device) throw notFound('No such device of yours: register it with the key service first');
  }

  private async existingDevices(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const rows = await this.deps.db
      .selectFrom('devices')
      .select(['user_id', 'device_id'])
      .where('user_id', 'in', userIds)
      .execute();
    return new Set(rows.map(key));
  }

  private async pendingCounts(addresses: Address[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const userIds = [...new Set(addresses.map((a) => a.user_id))];
    if (userIds.length === 0) return counts;
    const rows = await this.deps.db
      .selectFrom('device_messages')
      .select(['recipient_id', 'recipient_device_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('recipient_id', 'in', userIds)
      .groupBy(['recipient_id', 'recipient_device_id'])
      .execute();
    for (const r of rows) counts.set(`${r.recipient_id}:${r.recipient_device_id}`, Number(r.n));
    return counts;
  }
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, newIdentity, registerDevice } from '../keys/test-helpers.js';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';
import { ciphertext, TestSocket } from '../test-support/ws-client.js';

describe.each(DIALECTS)('device messages on %s', (dialect) => {
  let t: TestApp;
  let world: SpacesWorld;
  let call: ReturnType<typeof caller>;
  let url: string;
  const devices = new Map<string, number>();
  const sockets: TestSocket[] = [];

  const deviceOf = async (user: TestUser) => {
    const known = devices.get(user.id);
    if (known !== undefined) return known;
    const id = await registerDevice(t, user, newIdentity());
    devices.set(user.id, id);
    return id;
  };
  const send = async (from: TestUser, to: TestUser, text: string, toDevice?: number) =>
    call(from, 'POST', '/api/device-messages', {
      sender_device_id: await deviceOf(from),
      messages: [{ user_id: to.id, device_id: toDevice ?? (await deviceOf(to)), ciphertext: ciphertext(text) }],
    });
  const inbox = async (user: TestUser) =>
    (await call(user, 'GET', `/api/device-messages?device_id=${await deviceOf(user)}`, undefined)).json() as {
      messages: { id: string; sender_id: string; ciphertext: string }[];
      has_more: boolean;
    };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    call = caller(t);
    world = await buildSpacesWorld(t, 'devmsg');
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    url = `ws://127.0.0.1:${address.port}/ws`;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t.close();
  });

  it('stores an envelope for the recipient device until it is acknowledged', async () => {
    const { member, groupMember } = world.users;
    const res = await send(member, groupMember, 'sender key distribution');
    expect(res.json()).toEqual({ delivered: 1, unknown_devices: [], full_devices: [] });
    const first = await inbox(groupMember);
    expect(first.messages.map((m) => m.ciphertext)).toEqual([ciphertext('sender key distribution')]);
    expect(first.messages[0]!.sender_id).toBe(member.id);
    const ack = await call(groupMember, 'POST', '/api/device-messages/ack', {
      device_id: await deviceOf(groupMember),
      ids: first.messages.map((m) => m.id),
    });
    expect(ack.statusCode).toBe(204);
    expect((await inbox(groupMember)).messages).toEqual([]);
  });

  it('pushes envelopes live to the socket of the addressed device only', async () => {
    const { moderator, admin } = world.users;
    const device = await deviceOf(admin);
    const right = await TestSocket.open(url);
    const other = await TestSocket.open(url);
    sockets.push(right, other);
    const token = admin.auth.authorization.slice('Bearer '.length);
    right.send({ op: 'auth', token, device_id: device });
    other.send({ op: 'auth', token, device_id: device + 1000 });
    await right.next((f) => f.type === 'ready');
    await other.next((f) => f.type === 'ready');
    await send(moderator, admin, 'live');
    const event = await right.next((f) => f.type === 'device.message');
    expect((event.message as { ciphertext: string }).ciphertext).toBe(ciphertext('live'));
    // Sent over the gateway too, and acknowledged there.
    const viaSocket = await right.request({
      op: 'device.send',
      sender_device_id: device,
      messages: [{ user_id: moderator.id, device_id: await deviceOf(moderator), ciphertext: ciphertext('back') }],
    });
    expect(viaSocket).toMatchObject({ type: 'ack', data: { delivered: 1 } });
    expect(other.frames.some((f) => f.type === 'device.message')).toBe(false);
  });

  it('reports unknown devices and refuses people the sender may not contact', async () => {
    const { member, groupMember, outsider, ownerB } = world.users;
    const res = await send(member, groupMember, 'stale', 999);
    expect(res.json()).toMatchObject({ delivered: 0, unknown_devices: [{ user_id: groupMember.id, device_id: 999 }] });
    await deviceOf(outsider);
    await deviceOf(ownerB);
    for (const stranger of [outsider, ownerB]) {
      const refused = await send(member, stranger, 'hello stranger');
      expect(refused.json()).toMatchObject({ delivered: 0, unknown_devices: [{ user_id: stranger.id }] });
    }
    expect((await inbox(outsider)).messages).toEqual([]);
  });

  it('only lets a user send from, read and acknowledge their own devices', async () => {
    const { member, groupMember } = world.users;
    const theirs = await deviceOf(groupMember);
    await deviceOf(member);
    const spoof = await call(member, 'POST', '/api/device-messages', {
      sender_device_id: theirs + 500,
      messages: [{ user_id: groupMember.id, device_id: theirs, ciphertext: ciphertext('x') }],
    });
    expect(spoof.statusCode).toBe(404);
    const peek = await call(member, 'GET', `/api/device-messages?device_id=${theirs + 500}`, undefined);
    expect(peek.statusCode).toBe(404);
    await send(member, groupMember, 'private');
    const ids = (await inbox(groupMember)).messages.map((m) => m.id);
    await call(member, 'POST', '/api/device-messages/ack', { device_id: await deviceOf(member), ids });
    expect((await inbox(groupMember)).messages.map((m) => m.id)).toEqual(ids);
  });

  it('answers malformed sends with validation_error and stores nothing', async () => {
    const { member, groupMember } = world.users;
    const device = await deviceOf(member);
    const before = (await inbox(groupMember)).messages.length;
    for (const body of [
      { sender_device_id: device, messages: [] },
      { sender_device_id: device, messages: [{ user_id: groupMember.id, device_id: 1, ciphertext: 'not base64!' }] },
      { sender_device_id: 0, messages: [{ user_id: groupMember.id, device_id: 1, ciphertext: 'AAAA' }] },
      {
        sender_device_id: device,
        messages: Array.from({ length: 501 }, () => ({ user_id: 'x', device_id: 1, ciphertext: 'AAAA' })),
      },
    ]) {
      const res = await call(member, 'POST', '/api/device-messages', body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('validation_error');
    }
    expect((await inbox(groupMember)).messages.length).toBe(before);
  });

  it('drops envelopes nobody collected within 30 days, and a removed device’s inbox', async () => {
    const { admin, owner } = world.users;
    await send(admin, owner, 'old');
    await t.db.database.db.updateTable('device_messages').set({ created_at: 1 }).execute();
    const { DeviceMessageService } = await import('./service.js');
    const service = new DeviceMessageService({ db: t.db.database.db, events: undefined as never, now: Date.now });
    expect(await service.purgeExpired(Date.now())).toBeGreaterThan(0);
    expect((await inbox(owner)).messages).toEqual([]);

    await send(admin, owner, 'to a device that goes away');
    const removed = await call(owner, 'DELETE', `/api/keys/devices/${await deviceOf(owner)}`, undefined);
    expect(removed.statusCode).toBe(204);
    const rows = await t.db.database.db
      .selectFrom('device_messages')
      .select('id')
      .where('recipient_id', '=', owner.id)
      .execute();
    expect(rows).toEqual([]);
  });
});

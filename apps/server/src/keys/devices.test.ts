import { KEY_LIMITS } from '@chatalot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../spaces/events.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';
import {
  b64,
  caller,
  deviceBody,
  flush,
  freshUser,
  newIdentity,
  newOneTimePreKeys,
  newSignedPreKey,
  otkBody,
  outcome,
  recordEvents,
  registerDevice,
  shareCommunity,
  spkBody,
} from './test-helpers.js';

/** Flips one bit of a base64url value at byte `index`. */
function tamper(value: string, index = 0): string {
  const bytes = Buffer.from(value, 'base64url');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('base64url');
}

describe.each(DIALECTS)('key service devices on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    call = caller(t);
  });
  afterAll(() => t.close());

  const ownDevices = async (user: TestUser) => {
    const res = await call(user, 'GET', '/api/keys/devices');
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { identity_key: string | null; devices: { device_id: number; one_time_prekeys: number }[] };
  };
  const storedPreKeys = async (userId: string) =>
    Number(
      (
        await t.db.database.db
          .selectFrom('one_time_prekeys')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('user_id', '=', userId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('registers a first device, sets the identity key and announces the device', async () => {
    const alice = await freshUser(t, 'alice');
    const bob = await freshUser(t, 'bob');
    const community = await shareCommunity(t, alice, bob);
    const identity = newIdentity();
    const events = await recordEvents(t, topics.user(alice.id), topics.community(community));
    expect(await ownDevices(alice)).toEqual({ identity_key: null, devices: [] });

    const res = await call(
      alice,
      'POST',
      '/api/keys/devices',
      deviceBody(identity, { otks: newOneTimePreKeys(1, 100) }),
    );
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ device_id: 1, signed_prekey_id: 1, one_time_prekeys: 100 });
    const own = await ownDevices(alice);
    expect(own.identity_key).toBe(b64(identity.publicKey));
    expect(own.devices).toEqual([expect.objectContaining({ device_id: 1, one_time_prekeys: 100 })]);

    await flush();
    await events.stop();
    const added = { type: 'device.added', user_id: alice.id, device_id: 1 };
    expect(events.on(topics.user(alice.id))).toEqual([added]);
    expect(events.on(topics.community(community))).toEqual([added]);
    // A contact sees the device list without claiming anything.
    const seen = await call(bob, 'GET', `/api/keys/users/${alice.id}/devices`);
    expect(seen.statusCode, seen.body).toBe(200);
    expect(seen.json()).toMatchObject({ identity_key: b64(identity.publicKey), devices: [{ device_id: 1 }] });
    expect(await storedPreKeys(alice.id)).toBe(100);
  });

  it('takes later devices with the same identity key and refuses a different one (409)', async () => {
    const alice = await freshUser(t, 'alice');
    const identity = newIdentity();
    expect(await registerDevice(t, alice, identity)).toBe(1);
    expect(await registerDevice(t, alice, identity)).toBe(2);

    const other = await call(alice, 'POST', '/api/keys/devices', deviceBody(newIdentity()));
    expect(outcome(other)).toEqual([409, 'identity_key_mismatch']);
    const own = await ownDevices(alice);
    expect(own.identity_key).toBe(b64(identity.publicKey));
    expect(own.devices.map((d) => d.device_id)).toEqual([1, 2]);
    // The refused registration consumed no id; removed ids are never reused.
    expect((await call(alice, 'DELETE', '/api/keys/devices/2')).statusCode).toBe(204);
    expect(await registerDevice(t, alice, identity)).toBe(3);
  });

  it('resets the identity only when asked: other devices go, contacts are told', async () => {
    const alice = await freshUser(t, 'alice');
    const old = newIdentity();
    await registerDevice(t, alice, old, newOneTimePreKeys(1, 5));
    await registerDevice(t, alice, old, newOneTimePreKeys(1, 5));
    const events = await recordEvents(t, topics.user(alice.id));
    const fresh = newIdentity();
    const res = await call(alice, 'POST', '/api/keys/devices', { ...deviceBody(fresh), reset_identity: true });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ device_id: 3 });
    const own = await ownDevices(alice);
    expect(own.identity_key).toBe(b64(fresh.publicKey));
    expect(own.devices.map((d) => d.device_id)).toEqual([3]);
    expect(await storedPreKeys(alice.id)).toBe(0);
    await flush();
    await events.stop();
    expect(events.on(topics.user(alice.id))).toEqual([
      { type: 'device.removed', user_id: alice.id, device_id: 1 },
      { type: 'device.removed', user_id: alice.id, device_id: 2 },
      { type: 'identity.changed', user_id: alice.id, identity_key: b64(fresh.publicKey) },
      { type: 'device.added', user_id: alice.id, device_id: 3 },
    ]);
  });

  it('verifies the signed prekey strictly: any tampered byte is bad_signature, nothing is stored', async () => {
    const alice = await freshUser(t, 'alice');
    const identity = newIdentity();
    const good = deviceBody(identity);
    const spk = good.signed_prekey;
    const cases = [
      { ...good, signed_prekey: { ...spk, signature: tamper(spk.signature, 5) } },
      { ...good, signed_prekey: { ...spk, signature: tamper(spk.signature, 63) } },
      { ...good, signed_prekey: { ...spk, public_key: tamper(spk.public_key, 0) } },
      { ...good, signed_prekey: { ...spk, key_id: spk.key_id + 1 } },
      // Signed by someone else's identity key.
      { ...good, signed_prekey: spkBody(newSignedPreKey(newIdentity())) },
    ];
    for (const body of cases)
      expect(outcome(await call(alice, 'POST', '/api/keys/devices', body))).toEqual([400, 'bad_signature']);
    // Not a point on the curve (y = 2 has no x on edwards25519).
    const notAPoint = b64(Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 2 : 0)));
    expect(outcome(await call(alice, 'POST', '/api/keys/devices', { ...good, identity_key: notAPoint }))).toEqual([
      400,
      'invalid_key',
    ]);
    // Padded, too short, or a non-canonical last character: refused before any crypto.
    for (const identity_key of [
      `${good.identity_key}=`,
      good.identity_key.slice(1),
      `${good.identity_key.slice(0, 42)}B`,
    ]) {
      expect(outcome(await call(alice, 'POST', '/api/keys/devices', { ...good, identity_key }))).toEqual([
        400,
        'validation_error',
      ]);
    }
    expect(await ownDevices(alice)).toEqual({ identity_key: null, devices: [] });
    expect((await call(alice, 'POST', '/api/keys/devices', good)).statusCode).toBe(201);
  });

  it('rotates the signed prekey with the same strict check', async () => {
    const alice = await freshUser(t, 'alice');
    const identity = newIdentity();
    const device = await registerDevice(t, alice, identity);
    const next = spkBody(newSignedPreKey(identity, 2));
    const url = `/api/keys/devices/${device}/signed-prekey`;
    expect(outcome(await call(alice, 'PUT', url, { ...next, signature: tamper(next.signature, 10) }))).toEqual([
      400,
      'bad_signature',
    ]);
    expect(outcome(await call(alice, 'PUT', url, spkBody(newSignedPreKey(newIdentity(), 2))))).toEqual([
      400,
      'bad_signature',
    ]);
    expect((await call(alice, 'PUT', url, next)).statusCode).toBe(204);
    const bundles = await call(alice, 'GET', `/api/keys/users/${alice.id}/bundles`);
    expect(bundles.json().bundles[0].signed_prekey).toEqual(next);
    expect(outcome(await call(alice, 'PUT', '/api/keys/devices/99/signed-prekey', next))).toEqual([404, 'not_found']);
  });

  it('takes at most 200 one-time prekeys per upload, unique ids, and counts them for the owner', async () => {
    const alice = await freshUser(t, 'alice');
    const identity = newIdentity();
    const tooMany = await call(
      alice,
      'POST',
      '/api/keys/devices',
      deviceBody(identity, { otks: newOneTimePreKeys(1, 201) }),
    );
    expect(outcome(tooMany)).toEqual([400, 'validation_error']);
    const device = await registerDevice(t, alice, identity, newOneTimePreKeys(1, 200));
    const url = `/api/keys/devices/${device}/one-time-prekeys`;
    const count = async () => (await call(alice, 'GET', `${url}/count`)).json().count as number;
    expect(await count()).toBe(200);

    expect(
      outcome(await call(alice, 'POST', url, { one_time_prekeys: otkBody(newOneTimePreKeys(1000, 201)) })),
    ).toEqual([400, 'validation_error']);
    expect(outcome(await call(alice, 'POST', url, { one_time_prekeys: [] }))).toEqual([400, 'validation_error']);
    const twice = otkBody(newOneTimePreKeys(500, 1));
    expect(outcome(await call(alice, 'POST', url, { one_time_prekeys: [...twice, ...twice] }))).toEqual([
      400,
      'validation_error',
    ]);
    // Ids the device already holds: 409 and nothing of the batch is stored.
    const overlapping = await call(alice, 'POST', url, { one_time_prekeys: otkBody(newOneTimePreKeys(150, 100)) });
    expect(outcome(overlapping)).toEqual([409, 'conflict']);
    expect(await count()).toBe(200);

    const added = await call(alice, 'POST', url, { one_time_prekeys: otkBody(newOneTimePreKeys(201, 200)) });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json()).toEqual({ count: 400 });
    for (const first of [401, 601, 801]) {
      const res = await call(alice, 'POST', url, { one_time_prekeys: otkBody(newOneTimePreKeys(first, 200)) });
      expect(res.statusCode, res.body).toBe(201);
    }
    expect(await count()).toBe(KEY_LIMITS.oneTimePreKeysPerDevice);
    expect(outcome(await call(alice, 'POST', url, { one_time_prekeys: otkBody(newOneTimePreKeys(2000, 1)) }))).toEqual([
      409,
      'limit_reached',
    ]);

    // Only the owner's own devices: someone else's device id is simply not theirs.
    const bob = await freshUser(t, 'bob');
    expect(outcome(await call(bob, 'GET', `${url}/count`))).toEqual([404, 'not_found']);
    expect(outcome(await call(bob, 'POST', url, { one_time_prekeys: otkBody(newOneTimePreKeys(3000, 1)) }))).toEqual([
      404,
      'not_found',
    ]);
    expect(outcome(await call(null, 'GET', `${url}/count`))[0]).toBe(401);
    expect(outcome(await call(alice, 'GET', '/api/keys/devices/0/one-time-prekeys/count'))).toEqual([
      400,
      'validation_error',
    ]);
  });

  it(`allows ${KEY_LIMITS.devicesPerUser} devices per user`, async () => {
    const alice = await freshUser(t, 'alice');
    const identity = newIdentity();
    for (let i = 0; i < KEY_LIMITS.devicesPerUser; i++) await registerDevice(t, alice, identity);
    expect(outcome(await call(alice, 'POST', '/api/keys/devices', deviceBody(identity)))).toEqual([
      409,
      'limit_reached',
    ]);
    expect((await call(alice, 'DELETE', '/api/keys/devices/4')).statusCode).toBe(204);
    expect(await registerDevice(t, alice, identity)).toBe(KEY_LIMITS.devicesPerUser + 1);
  });

  it('removes a device with its prekeys and tells the owner and their contacts', async () => {
    const alice = await freshUser(t, 'alice');
    const bob = await freshUser(t, 'bob');
    const community = await shareCommunity(t, alice, bob);
    const identity = newIdentity();
    const first = await registerDevice(t, alice, identity, newOneTimePreKeys(1, 10));
    const second = await registerDevice(t, alice, identity, newOneTimePreKeys(1, 10));
    const events = await recordEvents(t, topics.user(alice.id), topics.community(community));

    expect(outcome(await call(bob, 'DELETE', `/api/keys/devices/${first}`))).toEqual([404, 'not_found']);
    expect((await call(alice, 'DELETE', `/api/keys/devices/${first}`)).statusCode).toBe(204);
    expect(outcome(await call(alice, 'DELETE', `/api/keys/devices/${first}`))).toEqual([404, 'not_found']);
    expect(await storedPreKeys(alice.id)).toBe(10);
    expect((await ownDevices(alice)).devices.map((d) => d.device_id)).toEqual([second]);
    const bundles = await call(bob, 'GET', `/api/keys/users/${alice.id}/bundles`);
    expect(bundles.json().bundles.map((b: { device_id: number }) => b.device_id)).toEqual([second]);

    await flush();
    await events.stop();
    const removed = { type: 'device.removed', user_id: alice.id, device_id: first };
    // (Bob's fetch above left the device below 25 one-time prekeys: a keys.low event too.)
    expect(events.on(topics.user(alice.id))).toEqual([removed, { type: 'keys.low', device_id: second, remaining: 9 }]);
    expect(events.on(topics.community(community))).toEqual([removed]);
  });
});

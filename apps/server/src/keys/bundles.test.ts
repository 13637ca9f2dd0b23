import { randomUUID } from 'node:crypto';
import { verifyPreKeyBundle, type IdentityKeyPair, type OneTimePreKey } from '@chatalot/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../spaces/events.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';
import { BUNDLE_FETCH_LIMIT } from './deps.js';
import {
  b64,
  type BundleListBody,
  caller,
  flush,
  freshUser,
  newIdentity,
  newOneTimePreKeys,
  outcome,
  recordEvents,
  registerDevice,
  shareCommunity,
  toCryptoBundles,
} from './test-helpers.js';

describe.each(DIALECTS)('prekey bundles on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    call = caller(t);
  });
  afterAll(() => t.close());

  const fetchBundles = async (as: TestUser, of: TestUser, query = '') => {
    const res = await call(as, 'GET', `/api/keys/users/${of.id}/bundles${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as BundleListBody;
  };

  /** A user with `devices` devices of `otks` one-time prekeys each (ids 1..otks). */
  const userWithDevices = async (devices: number, otks: number) => {
    const user = await freshUser(t, 'owner');
    const identity = newIdentity();
    const keys = new Map<number, OneTimePreKey[]>();
    for (let i = 0; i < devices; i++) {
      const generated = newOneTimePreKeys(1, otks);
      keys.set(await registerDevice(t, user, identity, generated), generated);
    }
    return { user, identity, keys };
  };

  const expectValid = (body: BundleListBody, identity: IdentityKeyPair, keys: Map<number, OneTimePreKey[]>) => {
    expect(body.identity_key).toBe(b64(identity.publicKey));
    for (const bundle of toCryptoBundles(body)) {
      expect(() => verifyPreKeyBundle(bundle)).not.toThrow();
      const otk = bundle.oneTimePreKey;
      if (otk) {
        const uploaded = keys.get(bundle.deviceId)!.find((k) => k.keyId === otk.keyId)!;
        expect(b64(otk.publicKey)).toBe(b64(uploaded.keyPair.publicKey));
      }
    }
  };

  it('hands out one bundle per device that verifies with @chatalot/crypto, each one-time prekey once', async () => {
    const { user: alice, identity, keys } = await userWithDevices(2, 3);
    const bob = await freshUser(t, 'bob');
    await shareCommunity(t, alice, bob);
    const served: string[] = [];
    for (let i = 0; i < 4; i++) {
      const body = await fetchBundles(bob, alice);
      expect(body.bundles.map((b) => b.device_id)).toEqual([1, 2]);
      expectValid(body, identity, keys);
      for (const b of body.bundles) if (b.one_time_prekey) served.push(`${b.device_id}:${b.one_time_prekey.key_id}`);
      if (i === 3) expect(body.bundles.map((b) => b.one_time_prekey)).toEqual([null, null]);
    }
    expect(served.sort()).toEqual(['1:1', '1:2', '1:3', '2:1', '2:2', '2:3']);
  });

  it('fetches only the devices asked for', async () => {
    const { user: alice, identity, keys } = await userWithDevices(3, 2);
    const body = await fetchBundles(alice, alice, '?device_ids=3,1,99');
    expect(body.bundles.map((b) => b.device_id)).toEqual([1, 3]);
    expectValid(body, identity, keys);
    expect(outcome(await call(alice, 'GET', `/api/keys/users/${alice.id}/bundles?device_ids=1,x`))).toEqual([
      400,
      'validation_error',
    ]);
  });

  it('serves only people who may contact the user: a shared community or DM, themselves, instance admins', async () => {
    const { user: alice } = await userWithDevices(1, 5);
    const stranger = await freshUser(t, 'stranger');
    const admin = await freshUser(t, 'iadmin', { instanceRole: 'admin' });
    const dmPartner = await freshUser(t, 'dm');
    const banned = await freshUser(t, 'banned');
    const community = await shareCommunity(t, alice, banned);
    await t.db.database.db
      .insertInto('community_bans')
      .values({ community_id: community, user_id: banned.id, reason: '', banned_by: alice.id, created_at: Date.now() })
      .execute();
    const dm = randomUUID();
    await t.db.database.db
      .insertInto('channels')
      .values({
        id: dm,
        group_id: null,
        kind: 'dm',
        dm_key: [alice.id, dmPartner.id].sort().join(':'),
        message_ttl_secs: null,
        archived_at: null,
        voice_background: null,
        created_by: alice.id,
        created_at: Date.now(),
        updated_at: Date.now(),
      })
      .execute();
    await t.db.database.db
      .insertInto('channel_members')
      .values([alice, dmPartner].map((u) => ({ channel_id: dm, user_id: u.id, joined_at: Date.now() })))
      .execute();

    for (const who of [stranger, banned]) {
      for (const path of ['bundles', 'devices']) {
        expect(outcome(await call(who, 'GET', `/api/keys/users/${alice.id}/${path}`))).toEqual([404, 'not_found']);
      }
    }
    expect(outcome(await call(stranger, 'GET', `/api/keys/users/no-such-user/bundles`))).toEqual([404, 'not_found']);
    expect(outcome(await call(null, 'GET', `/api/keys/users/${alice.id}/bundles`))[0]).toBe(401);
    for (const who of [admin, dmPartner, alice]) {
      expect((await fetchBundles(who, alice)).bundles).toHaveLength(1);
    }
    // A user with no devices yet: an empty list, not an error.
    expect(await fetchBundles(admin, stranger)).toEqual({ user_id: stranger.id, identity_key: null, bundles: [] });
  });

  it('publishes keys.low to the owner once a fetch leaves fewer than 25 one-time prekeys', async () => {
    const { user: alice } = await userWithDevices(1, 26);
    const bob = await freshUser(t, 'bob');
    await shareCommunity(t, alice, bob);
    const events = await recordEvents(t, topics.user(alice.id));
    await fetchBundles(bob, alice);
    await flush();
    expect(events.on(topics.user(alice.id))).toEqual([]);
    await fetchBundles(bob, alice);
    await flush();
    await events.stop();
    expect(events.on(topics.user(alice.id))).toEqual([{ type: 'keys.low', device_id: 1, remaining: 24 }]);
  });

  it(`limits fetches per requester and user (${BUNDLE_FETCH_LIMIT.capacity} at once): 429 rate_limited`, async () => {
    const { user: alice } = await userWithDevices(1, 50);
    const { user: carol } = await userWithDevices(1, 5);
    const bob = await freshUser(t, 'bob');
    const dave = await freshUser(t, 'dave');
    await shareCommunity(t, alice, bob, carol, dave);
    for (let i = 0; i < BUNDLE_FETCH_LIMIT.capacity; i++) await fetchBundles(bob, alice);
    const refused = await call(bob, 'GET', `/api/keys/users/${alice.id}/bundles`);
    expect(outcome(refused)).toEqual([429, 'rate_limited']);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The refusal claimed nothing; other pairs have their own buckets.
    expect((await call(alice, 'GET', '/api/keys/devices/1/one-time-prekeys/count')).json()).toEqual({
      count: 50 - BUNDLE_FETCH_LIMIT.capacity,
    });
    await fetchBundles(bob, carol);
    await fetchBundles(dave, alice);
  });
});

describe.each(DIALECTS)('prekey bundles under concurrency on %s', (dialect) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(dialect, { deps: { bundleFetchLimit: { capacity: 1_000_000, refillPerSec: 1_000_000 } } });
  });
  afterAll(() => t.close());

  it('1,000 parallel fetches against 100 one-time prekeys serve each at most once, exactly 100 in all', async () => {
    const alice = await freshUser(t, 'alice');
    const requesters = await Promise.all(Array.from({ length: 10 }, (_, i) => freshUser(t, `req${i}`)));
    await shareCommunity(t, alice, ...requesters);
    const identity = newIdentity();
    const otks = newOneTimePreKeys(1, 100);
    await registerDevice(t, alice, identity, otks);
    const call = caller(t);

    const responses = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => call(requesters[i % 10]!, 'GET', `/api/keys/users/${alice.id}/bundles`)),
    );
    expect(responses.filter((r) => r.statusCode !== 200).map((r) => r.body)).toEqual([]);
    const served = responses.map((r) => (r.json() as BundleListBody).bundles[0]!.one_time_prekey);
    const ids = served.filter((k) => k !== null).map((k) => k.key_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort((a, b) => a - b)).toEqual(otks.map((k) => k.keyId));
    expect(served.filter((k) => k === null)).toHaveLength(900);
    const left = await call(alice, 'GET', '/api/keys/devices/1/one-time-prekeys/count');
    expect(left.json()).toEqual({ count: 0 });
  });
});

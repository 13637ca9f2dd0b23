import { randomUUID } from 'node:crypto';
import {
  defaultContext,
  generateIdentityKeyPair,
  generateOneTimePreKeys,
  generateSignedPreKey,
  type IdentityKeyPair,
  type OneTimePreKey,
  type PreKeyBundle,
  type SignedPreKey,
} from '@chatalot/crypto';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { TestApp } from '../test-support/test-app.js';
import { createUser, type TestUser } from '../test-support/users.js';

const ctx = defaultContext();
export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** `call(user, method, url, payload)`: app.inject as that user (null = anonymous). */
export function caller(t: TestApp) {
  return (user: TestUser | null, method: Method, url: string, payload?: unknown) =>
    t.app.inject({
      method,
      url,
      headers: user ? user.auth : {},
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });
}

/** Status and error code together, for one readable assertion. */
export const outcome = (res: LightMyRequestResponse): [number, string | undefined] => [
  res.statusCode,
  res.statusCode >= 400 ? (res.json() as { error: { code: string } }).error.code : undefined,
];

let counter = 0;
/** A fresh user with a unique name (no Argon2 hashing). */
export const freshUser = (t: TestApp, prefix = 'u', options: Parameters<typeof createUser>[2] = {}) =>
  createUser(t, `${prefix.slice(0, 12)}${++counter}x${randomUUID().slice(0, 8)}`, options);

export const newIdentity = (): IdentityKeyPair => generateIdentityKeyPair(ctx);
export const newSignedPreKey = (identity: IdentityKeyPair, keyId = 1): SignedPreKey =>
  generateSignedPreKey(ctx, identity, keyId);
export const newOneTimePreKeys = (first: number, count: number): OneTimePreKey[] =>
  generateOneTimePreKeys(ctx, first, count);

export const spkBody = (spk: SignedPreKey) => ({
  key_id: spk.keyId,
  public_key: b64(spk.keyPair.publicKey),
  signature: b64(spk.signature),
});
export const otkBody = (keys: OneTimePreKey[]) =>
  keys.map((k) => ({ key_id: k.keyId, public_key: b64(k.keyPair.publicKey) }));

/** A register-device body made with @chatalot/crypto. */
export function deviceBody(identity: IdentityKeyPair, options: { otks?: OneTimePreKey[]; spkId?: number } = {}) {
  return {
    identity_key: b64(identity.publicKey),
    signed_prekey: spkBody(newSignedPreKey(identity, options.spkId ?? 1)),
    one_time_prekeys: otkBody(options.otks ?? []),
  };
}

/** Registers a device through the API; returns its id. */
export async function registerDevice(
  t: TestApp,
  user: TestUser,
  identity: IdentityKeyPair,
  otks: OneTimePreKey[] = [],
): Promise<number> {
  const res = await caller(t)(user, 'POST', '/api/keys/devices', deviceBody(identity, { otks }));
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { device_id: number }).device_id;
}

export interface BundleListBody {
  user_id: string;
  identity_key: string | null;
  bundles: {
    device_id: number;
    signed_prekey: { key_id: number; public_key: string; signature: string };
    one_time_prekey: { key_id: number; public_key: string } | null;
  }[];
}

/** The bundles of a response in @chatalot/crypto's shape, ready for verifyPreKeyBundle. */
export function toCryptoBundles(body: BundleListBody): PreKeyBundle[] {
  return body.bundles.map((b) => ({
    userId: body.user_id,
    deviceId: b.device_id,
    identityKey: bytes(body.identity_key ?? ''),
    signedPreKey: {
      keyId: b.signed_prekey.key_id,
      publicKey: bytes(b.signed_prekey.public_key),
      signature: bytes(b.signed_prekey.signature),
    },
    oneTimePreKey: b.one_time_prekey
      ? { keyId: b.one_time_prekey.key_id, publicKey: bytes(b.one_time_prekey.public_key) }
      : undefined,
  }));
}

/** Puts users in one new community, straight in the database. */
export async function shareCommunity(t: TestApp, ...users: TestUser[]): Promise<string> {
  const db = t.db.database.db;
  const id = randomUUID();
  const now = Date.now();
  await db
    .insertInto('communities')
    .values({ id, name: 'Keys', owner_id: users[0]!.id, created_at: now, updated_at: now })
    .execute();
  await db
    .insertInto('community_members')
    .values(
      users.map((u, i) => ({
        community_id: id,
        user_id: u.id,
        role: i === 0 ? ('owner' as const) : ('member' as const),
        nickname: null,
        joined_at: now,
      })),
    )
    .execute();
  return id;
}

/** Collects every event published on the given topics, parsed. */
export async function recordEvents(t: TestApp, ...topicNames: string[]) {
  const seen: { topic: string; event: Record<string, unknown> }[] = [];
  const stops = await Promise.all(
    topicNames.map((topic) =>
      t.broker.subscribe(topic, (payload) =>
        seen.push({ topic, event: JSON.parse(payload) as Record<string, unknown> }),
      ),
    ),
  );
  return {
    seen,
    on: (topic: string) => seen.filter((s) => s.topic === topic).map((s) => s.event),
    stop: () => Promise.all(stops.map((s) => s())),
  };
}

/** Lets the in-memory broker deliver what was published (it delivers in a microtask). */
export const flush = () => new Promise((resolve) => setImmediate(resolve));

import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { CommunityRole } from '../db/schema.js';
import type { TestApp } from '../test-support/test-app.js';
import { createUser, type TestUser } from '../test-support/users.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

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
  createUser(t, `${prefix.slice(0, 12)}${++counter}x${Date.now() % 100000}`, options);

export interface TestCommunity {
  id: string;
  owner: TestUser;
  admin: TestUser;
  moderator: TestUser;
  alice: TestUser;
  bob: TestUser;
  carol: TestUser;
}

/**
 * A community inserted straight into the database (no dependency on the community routes):
 * an owner, an admin, a moderator and three plain members. No groups yet.
 */
export async function seedCommunity(t: TestApp, tag: string): Promise<TestCommunity> {
  const db = t.db.database.db;
  const users = {
    owner: await freshUser(t, `${tag}own`),
    admin: await freshUser(t, `${tag}adm`),
    moderator: await freshUser(t, `${tag}mod`),
    alice: await freshUser(t, `${tag}ali`),
    bob: await freshUser(t, `${tag}bob`),
    carol: await freshUser(t, `${tag}car`),
  };
  const id = randomUUID();
  const now = Date.now();
  await db
    .insertInto('communities')
    .values({ id, name: `Community ${tag}`, owner_id: users.owner.id, created_at: now, updated_at: now })
    .execute();
  const roles: [TestUser, CommunityRole][] = [
    [users.owner, 'owner'],
    [users.admin, 'admin'],
    [users.moderator, 'moderator'],
    [users.alice, 'member'],
    [users.bob, 'member'],
    [users.carol, 'member'],
  ];
  await db
    .insertInto('community_members')
    .values(roles.map(([u, role]) => ({ community_id: id, user_id: u.id, role, nickname: null, joined_at: now })))
    .execute();
  return { id, ...users };
}

/** Adds a user to a community directly. */
export async function addToCommunity(t: TestApp, communityId: string, user: TestUser, role: CommunityRole = 'member') {
  await t.db.database.db
    .insertInto('community_members')
    .values({ community_id: communityId, user_id: user.id, role, nickname: null, joined_at: Date.now() })
    .execute();
}

/** Creates a group through the API and returns its body. */
export async function createGroup(
  t: TestApp,
  as: TestUser,
  communityId: string,
  body: Record<string, unknown> = {},
): Promise<{ id: string; [k: string]: unknown }> {
  const res = await caller(t)(as, 'POST', `/api/communities/${communityId}/groups`, {
    name: 'Group',
    visibility: 'public',
    ...body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** The channels of a group through the API. */
export async function channelsOf(t: TestApp, as: TestUser, groupId: string) {
  const res = await caller(t)(as, 'GET', `/api/groups/${groupId}/channels`);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { channels: { id: string; name: string; kind: string }[] }).channels;
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
    types: (topic: string) => seen.filter((s) => s.topic === topic).map((s) => s.event.type),
    stop: () => Promise.all(stops.map((s) => s())),
  };
}

import { expect } from 'vitest';
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

let counter = 0;
/** A fresh user with a unique name (no Argon2 hashing). */
export const freshUser = (t: TestApp, prefix = 'u') => createUser(t, `${prefix}${++counter}x${Date.now() % 100000}`);

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

/** Creates a community as `owner` (the app must allow it) and returns its id. */
export async function createCommunity(t: TestApp, owner: TestUser, name = 'Test community'): Promise<string> {
  const res = await caller(t)(owner, 'POST', '/api/communities', { name });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { id: string }).id;
}

/** Creates an invite as `creator` and returns its code. */
export async function createInvite(
  t: TestApp,
  creator: TestUser,
  communityId: string,
  body: Record<string, unknown> = {},
): Promise<string> {
  const res = await caller(t)(creator, 'POST', `/api/communities/${communityId}/invites`, body);
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { code: string }).code;
}

/** Joins by invite and expects success. */
export async function join(t: TestApp, user: TestUser, code: string): Promise<void> {
  const res = await caller(t)(user, 'POST', `/api/invites/${code}/join`);
  expect(res.statusCode, res.body).toBe(200);
}

/** A community with an owner and members of the given roles, built through the API. */
export async function communityWith(
  t: TestApp,
  owner: TestUser,
  roles: Record<string, 'admin' | 'moderator' | 'member'>,
): Promise<{ id: string; users: Record<string, TestUser> }> {
  const call = caller(t);
  const id = await createCommunity(t, owner);
  const code = await createInvite(t, owner, id);
  const users: Record<string, TestUser> = {};
  for (const [name, role] of Object.entries(roles)) {
    const user = await freshUser(t, name.slice(0, 8));
    await join(t, user, code);
    if (role !== 'member') {
      const res = await call(owner, 'PATCH', `/api/communities/${id}/members/${user.id}`, { role });
      expect(res.statusCode, res.body).toBe(200);
    }
    users[name] = user;
  }
  return { id, users };
}

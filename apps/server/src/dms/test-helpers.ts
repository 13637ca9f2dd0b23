import type { Dm } from '@chatalot/protocol';
import { expect } from 'vitest';
import { addToCommunity, caller, freshUser } from '../groups/test-helpers.js';
import type { TestApp } from '../test-support/test-app.js';
import type { TestUser } from '../test-support/users.js';

export {
  addToCommunity,
  caller,
  freshUser,
  outcome,
  recordEvents,
  seedCommunity,
  type TestCommunity,
} from '../groups/test-helpers.js';

/** Lets the in-memory broker deliver what was published (it delivers on a microtask). */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `n` fresh users, each a plain member of every given community. */
export async function people(t: TestApp, n: number, ...communityIds: string[]): Promise<TestUser[]> {
  const users: TestUser[] = [];
  for (let i = 0; i < n; i++) {
    const user = await freshUser(t, 'p');
    for (const id of communityIds) await addToCommunity(t, id, user);
    users.push(user);
  }
  return users;
}

/** Opens (gets or creates) the 1:1 DM through the API; expects 200 or 201. */
export async function openDm(t: TestApp, as: TestUser, other: TestUser): Promise<Dm> {
  const res = await caller(t)(as, 'POST', '/api/dms', { user_id: other.id });
  expect([200, 201], res.body).toContain(res.statusCode);
  return res.json();
}

/** Creates a group DM through the API; expects 201. */
export async function groupDm(t: TestApp, as: TestUser, others: TestUser[], name?: string): Promise<Dm> {
  const res = await caller(t)(as, 'POST', '/api/dms/group', {
    user_ids: others.map((u) => u.id),
    ...(name !== undefined ? { name } : {}),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** The member ids of a DM straight from the database, sorted. */
export async function memberIds(t: TestApp, channelId: string): Promise<string[]> {
  const rows = await t.db.database.db
    .selectFrom('channel_members')
    .select('user_id')
    .where('channel_id', '=', channelId)
    .execute();
  return rows.map((r) => r.user_id).sort();
}

/** Sorted ids, for comparing member lists regardless of order. */
export const idsOf = (users: readonly { id: string }[]) => users.map((u) => u.id).sort();

/** What a DM's member list shows of a test user. */
export const cardOf = (user: TestUser) => ({
  id: user.id,
  username: user.username,
  display_name: user.username,
  avatar_url: null,
});

/** Row counts of everything the DM and block routes write. */
export async function dmRowCounts(t: TestApp) {
  const db = t.db.database.db;
  const count = async (table: 'channels' | 'channel_members' | 'user_blocks') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    channels: await count('channels'),
    members: await count('channel_members'),
    blocks: await count('user_blocks'),
  };
}

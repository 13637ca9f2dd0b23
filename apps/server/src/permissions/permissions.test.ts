import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../auth/authenticate.js';
import { AppError } from '../errors.js';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { Permissions } from './permissions.js';
import type { Action } from './rules.js';

type Outcome = 'allow' | 'forbidden' | 'not_found';
type Who = keyof SpacesWorld['users'];

describe.each(DIALECTS)('the permission module on %s', (dialect) => {
  let t: TestApp;
  let w: SpacesWorld;
  let permissions: Permissions;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    w = await buildSpacesWorld(t, 'perm');
    permissions = new Permissions(t.db.database.db);
  });
  afterAll(() => t.close());

  const actor = (who: Who): Actor => ({
    userId: w.users[who].id,
    sessionId: 'test',
    username: w.users[who].username,
    instanceRole: who === 'instanceAdmin' ? 'admin' : 'user',
  });

  async function outcome(who: Who, action: Action, placeId: string): Promise<Outcome> {
    try {
      await permissions.require(actor(who), action, placeId);
      return 'allow';
    } catch (err) {
      if (err instanceof AppError && (err.code === 'forbidden' || err.code === 'not_found')) return err.code;
      throw err;
    }
  }

  async function table(action: Action, place: (w: SpacesWorld) => string, expected: Partial<Record<Who, Outcome>>) {
    const got: Partial<Record<Who, Outcome>> = {};
    for (const who of Object.keys(expected) as Who[]) got[who] = await outcome(who, action, place(w));
    expect(got).toEqual(expected);
  }

  it('lets community members see the community, hides it from everyone else, and the banned', () =>
    table('community.view', (w) => w.a.community, {
      member: 'allow',
      owner: 'allow',
      instanceAdmin: 'allow',
      outsider: 'not_found',
      banned: 'not_found',
      ownerB: 'not_found',
    }));

  it('keeps community settings to admins and deletion to the owner (instance admins are not owners)', async () => {
    await table('community.update', (w) => w.a.community, {
      member: 'forbidden',
      moderator: 'forbidden',
      admin: 'allow',
      owner: 'allow',
      instanceAdmin: 'allow',
    });
    await table('community.delete', (w) => w.a.community, {
      admin: 'forbidden',
      owner: 'allow',
      instanceAdmin: 'forbidden',
    });
  });

  it('shows a private group and its channels only to its members and community moderators', async () => {
    await table('channel.view', (w) => w.a.privateChannel, {
      member: 'not_found',
      groupMember: 'allow',
      moderator: 'allow',
      admin: 'allow',
      outsider: 'not_found',
      instanceAdmin: 'allow',
      banned: 'not_found',
    });
    await table('channel.view', (w) => w.a.publicChannel, {
      member: 'allow',
      outsider: 'not_found',
      banned: 'not_found',
    });
  });

  it('lets community moderators moderate every channel of the community, and nobody from another one', () =>
    table('channel.moderate', (w) => w.a.privateChannel, {
      groupMember: 'forbidden',
      moderator: 'allow',
      ownerB: 'not_found',
    }));

  it('never lets a third party into a DM, instance admins included', () =>
    table('channel.view', (w) => w.dm, {
      member: 'allow',
      groupMember: 'allow',
      moderator: 'not_found',
      owner: 'not_found',
      instanceAdmin: 'not_found',
      outsider: 'not_found',
    }));

  it('follows the community policy for creating groups and invites, read fresh each time', async () => {
    await table('community.groups.create', (w) => w.a.community, {
      member: 'forbidden',
      moderator: 'forbidden',
      admin: 'allow',
    });
    await t.db.database.db
      .updateTable('communities')
      .set({ who_can_create_groups: 'everyone' })
      .where('id', '=', w.a.community)
      .execute();
    await table('community.groups.create', (w) => w.a.community, { member: 'allow', outsider: 'not_found' });
    await table('community.invites.create', (w) => w.a.community, { member: 'allow', banned: 'not_found' });
  });

  it('applies a role change at the next check (no stale roles)', async () => {
    expect(await outcome('member', 'community.members.kick', w.a.community)).toBe('forbidden');
    await t.db.database.db
      .updateTable('community_members')
      .set({ role: 'moderator' })
      .where('community_id', '=', w.a.community)
      .where('user_id', '=', w.users.member.id)
      .execute();
    expect(await outcome('member', 'community.members.kick', w.a.community)).toBe('allow');
    await t.db.database.db
      .updateTable('community_members')
      .set({ role: 'member' })
      .where('community_id', '=', w.a.community)
      .where('user_id', '=', w.users.member.id)
      .execute();
  });

  it('lets members act only on lower roles; instance admins on anyone but the owner', async () => {
    const facts = (who: Who) => permissions.facts(actor(who), 'community', w.a.community);
    const outranks = async (who: Who, target: Who) => {
      try {
        await permissions.requireOutranks(actor(who), await facts(who), w.users[target].id);
        return true;
      } catch {
        return false;
      }
    };
    expect(await outranks('moderator', 'member')).toBe(true);
    expect(await outranks('moderator', 'moderator')).toBe(false);
    expect(await outranks('moderator', 'admin')).toBe(false);
    expect(await outranks('admin', 'moderator')).toBe(true);
    expect(await outranks('admin', 'owner')).toBe(false);
    expect(await outranks('owner', 'admin')).toBe(true);
    expect(await outranks('instanceAdmin', 'admin')).toBe(true);
    expect(await outranks('instanceAdmin', 'owner')).toBe(false);
  });
});

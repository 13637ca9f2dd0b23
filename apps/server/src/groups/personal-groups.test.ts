import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../spaces/events.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';
import {
  caller,
  channelsOf,
  createGroup,
  freshUser,
  outcome,
  recordEvents,
  seedCommunity,
  type TestCommunity,
} from './test-helpers.js';

interface GroupView {
  id: string;
  name: string;
  visibility: string;
  discoverable: boolean;
  personal_owner_id: string | null;
  members_can_invite: boolean;
  member_count: number;
  joined: boolean;
  my_role: string | null;
}

describe.each(DIALECTS)('personal groups on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;
  let c: TestCommunity;
  let other: TestCommunity;
  let outsider: TestUser;
  let instanceAdmin: TestUser;
  const db = () => t.db.database.db;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    call = caller(t);
    c = await seedCommunity(t, 'pg');
    other = await seedCommunity(t, 'po');
    outsider = await freshUser(t, 'outs');
    instanceAdmin = await freshUser(t, 'iadm', { instanceRole: 'admin' });
  });
  afterAll(() => t.close());

  const assign = async (as: TestUser, owner: TestUser, name: string, communityId = c.id) => {
    const res = await call(as, 'POST', `/api/communities/${communityId}/personal-groups`, { user_id: owner.id, name });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as GroupView;
  };
  const groupAs = async (as: TestUser, groupId: string) => {
    const res = await call(as, 'GET', `/api/groups/${groupId}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as GroupView;
  };
  const memberRoles = async (groupId: string) =>
    (
      (await call(c.owner, 'GET', `/api/groups/${groupId}/members`)).json() as {
        members: { user_id: string; role: string }[];
      }
    ).members
      .map((m) => [m.user_id, m.role])
      .sort();
  const inviteBy = (as: TestUser, groupId: string) => call(as, 'POST', `/api/groups/${groupId}/invites`, {});
  const joinBy = async (user: TestUser, code: string) => {
    const res = await call(user, 'POST', `/api/group-invites/${code}/join`);
    expect(res.statusCode, res.body).toBe(200);
  };
  const setInvites = (as: TestUser, groupId: string, allowed: boolean) =>
    call(as, 'PATCH', `/api/groups/${groupId}/personal`, { members_can_invite: allowed });

  it('lets moderators and above assign a private, undiscoverable group to one member, who owns it', async () => {
    const url = `/api/communities/${c.id}/personal-groups`;
    const countPersonal = async () =>
      (await db().selectFrom('groups').select('id').where('personal_owner_id', 'is not', null).execute()).length;
    const before = await countPersonal();
    expect(outcome(await call(c.alice, 'POST', url, { user_id: c.bob.id, name: 'Mine' }))).toEqual([403, 'forbidden']);
    expect(outcome(await call(outsider, 'POST', url, { user_id: c.bob.id, name: 'Mine' }))).toEqual([404, 'not_found']);
    expect(outcome(await call(null, 'POST', url, { user_id: c.bob.id, name: 'Mine' }))[0]).toBe(401);
    // Only a member of this community can own one.
    for (const userId of [outsider.id, other.alice.id, randomUUID()]) {
      expect(outcome(await call(c.moderator, 'POST', url, { user_id: userId, name: 'Studio' }))).toEqual([
        404,
        'not_found',
      ]);
    }
    for (const body of [
      { user_id: c.bob.id },
      { name: 'Studio' },
      { user_id: c.bob.id, name: '' },
      { user_id: c.bob.id, name: 'x'.repeat(65) },
    ]) {
      expect(outcome(await call(c.moderator, 'POST', url, body))).toEqual([400, 'validation_error']);
    }
    expect(await countPersonal()).toBe(before);

    const events = await recordEvents(t, topics.user(c.bob.id), topics.community(c.id));
    const g = await assign(c.moderator, c.bob, '  Bob’s studio ');
    expect(g).toMatchObject({
      name: 'Bob’s studio',
      visibility: 'private',
      discoverable: false,
      personal_owner_id: c.bob.id,
      members_can_invite: false,
      member_count: 1,
      // The moderator who assigned it does not join it.
      joined: false,
      my_role: null,
    });
    expect(await groupAs(c.bob, g.id)).toMatchObject({ joined: true, my_role: 'admin' });
    expect(await memberRoles(g.id)).toEqual([[c.bob.id, 'admin']]);
    expect((await channelsOf(t, c.bob, g.id)).map((ch) => ch.name)).toEqual(['general']);

    // Isolated: other members neither see it nor find it; moderators and above see it.
    expect(outcome(await call(c.alice, 'GET', `/api/groups/${g.id}`))).toEqual([404, 'not_found']);
    expect(outcome(await call(c.alice, 'POST', `/api/groups/${g.id}/join`))).toEqual([404, 'not_found']);
    const listed = async (u: TestUser, path = 'groups') =>
      ((await call(u, 'GET', `/api/communities/${c.id}/${path}`)).json() as { groups: { id: string }[] }).groups.map(
        (x) => x.id,
      );
    expect(await listed(c.alice)).not.toContain(g.id);
    expect(await listed(c.alice, 'groups/discover')).not.toContain(g.id);
    expect(await listed(c.moderator, 'groups/discover')).not.toContain(g.id);
    expect(await listed(c.bob)).toContain(g.id);
    expect(await listed(c.moderator)).toContain(g.id);

    await events.stop();
    expect(events.types(topics.user(c.bob.id))).toEqual(['group.created']);
    expect(events.types(topics.community(c.id))).toEqual([]);
    const audit = await db()
      .selectFrom('audit_log')
      .select(['actor_id', 'target_id'])
      .where('action', '=', 'personal_group_assigned')
      .execute();
    expect(audit).toContainEqual({ actor_id: c.moderator.id, target_id: c.bob.id });

    // Admins, the owner and instance admins may assign them too; a member may own several.
    await assign(c.admin, c.carol, 'Carol one');
    await assign(c.owner, c.carol, 'Carol two');
    await assign(instanceAdmin, c.carol, 'Carol three');
    expect(await countPersonal()).toBe(before + 4);
  });

  it('lets its owner run its channels and members, but not leave it, open it up or lose it', async () => {
    const g = await assign(c.moderator, c.bob, 'Workshop');
    const channels = `/api/groups/${g.id}/channels`;
    const created = await call(c.bob, 'POST', channels, { name: 'builds', kind: 'text' });
    expect(created.statusCode, created.body).toBe(201);
    const voice = await call(c.bob, 'POST', channels, { name: 'calls', kind: 'voice' });
    expect(voice.statusCode).toBe(201);
    const id = (created.json() as { id: string }).id;
    const changed = await call(c.bob, 'PATCH', `/api/channels/${id}`, {
      topic: 'CI',
      slow_mode_secs: 30,
      message_ttl_secs: 86_400,
      read_only: true,
    });
    expect(changed.json()).toMatchObject({
      topic: 'CI',
      slow_mode_secs: 30,
      message_ttl_secs: 86_400,
      read_only: true,
    });
    expect((await call(c.bob, 'PATCH', `/api/channels/${id}`, { archived: true })).json()).toMatchObject({
      archived: true,
    });
    expect((await call(c.bob, 'DELETE', `/api/channels/${(voice.json() as { id: string }).id}`)).statusCode).toBe(204);
    expect((await call(c.bob, 'PATCH', `/api/groups/${g.id}`, { name: 'Bob’s workshop' })).json()).toMatchObject({
      name: 'Bob’s workshop',
    });

    // It stays private and undiscoverable, whoever asks.
    for (const as of [c.bob, c.moderator, c.owner]) {
      for (const body of [{ visibility: 'public' }, { discoverable: true }]) {
        expect(outcome(await call(as, 'PATCH', `/api/groups/${g.id}`, body))).toEqual([400, 'bad_request']);
      }
    }
    expect(await groupAs(c.bob, g.id)).toMatchObject({ visibility: 'private', discoverable: false });
    // The owner cannot walk away from it.
    expect(outcome(await call(c.bob, 'POST', `/api/groups/${g.id}/leave`))).toEqual([409, 'conflict']);

    // The owner manages the members a moderator let in, and nobody demotes or removes the owner.
    const code = ((await inviteBy(c.moderator, g.id)).json() as { code: string }).code;
    await joinBy(c.carol, code);
    await joinBy(c.alice, code);
    expect(
      (await call(c.bob, 'PATCH', `/api/groups/${g.id}/members/${c.carol.id}`, { role: 'admin' })).json(),
    ).toMatchObject({ role: 'admin' });
    expect((await call(c.bob, 'DELETE', `/api/groups/${g.id}/members/${c.alice.id}`)).statusCode).toBe(204);
    for (const as of [c.carol, c.moderator, c.admin, c.owner, instanceAdmin]) {
      expect(outcome(await call(as, 'PATCH', `/api/groups/${g.id}/members/${c.bob.id}`, { role: 'member' }))).toEqual([
        403,
        'forbidden',
      ]);
      expect(outcome(await call(as, 'DELETE', `/api/groups/${g.id}/members/${c.bob.id}`))).toEqual([403, 'forbidden']);
    }
    expect(await memberRoles(g.id)).toEqual(
      [
        [c.bob.id, 'admin'],
        [c.carol.id, 'admin'],
      ].sort(),
    );
  });

  it('leaves community moderators and above their admin rights in it, without joining it', async () => {
    const g = await assign(c.admin, c.alice, 'Alice’s corner');
    for (const as of [c.moderator, c.admin, c.owner]) {
      expect(await groupAs(as, g.id)).toMatchObject({ joined: false, my_role: null });
    }
    const res = await call(c.moderator, 'POST', `/api/groups/${g.id}/channels`, { name: 'mod-notes', kind: 'text' });
    expect(res.statusCode, res.body).toBe(201);
    const id = (res.json() as { id: string }).id;
    expect((await call(c.moderator, 'PATCH', `/api/channels/${id}`, { topic: 'Read me' })).statusCode).toBe(200);
    // The owner controls it as well, whoever made it.
    expect((await call(c.alice, 'PATCH', `/api/channels/${id}`, { topic: 'Mine now' })).statusCode).toBe(200);
    expect((await call(c.moderator, 'PATCH', `/api/groups/${g.id}`, { description: 'Set by a mod' })).statusCode).toBe(
      200,
    );
    // Moderators may invite whatever the owner is allowed; those who join are plain members.
    const code = ((await inviteBy(c.moderator, g.id)).json() as { code: string }).code;
    await joinBy(c.carol, code);
    expect(outcome(await call(c.carol, 'POST', `/api/groups/${g.id}/channels`, { name: 'x', kind: 'text' }))).toEqual([
      403,
      'forbidden',
    ]);
    expect((await call(c.moderator, 'GET', `/api/groups/${g.id}/invites`)).statusCode).toBe(200);
    expect((await call(c.moderator, 'DELETE', `/api/groups/${g.id}/members/${c.carol.id}`)).statusCode).toBe(204);
    expect((await call(c.moderator, 'DELETE', `/api/channels/${id}`)).statusCode).toBe(204);
    expect(await memberRoles(g.id)).toEqual([[c.alice.id, 'admin']]);
    // Plain community members have no say in it.
    expect(outcome(await call(c.bob, 'POST', `/api/groups/${g.id}/channels`, { name: 'x', kind: 'text' }))).toEqual([
      404,
      'not_found',
    ]);
    expect((await call(c.moderator, 'DELETE', `/api/groups/${g.id}`)).statusCode).toBe(204);
    expect(outcome(await call(c.alice, 'GET', `/api/groups/${g.id}`))).toEqual([404, 'not_found']);
  });

  it('lets only moderators decide whether its owner may invite others', async () => {
    const g = await assign(c.moderator, c.bob, 'Invites');
    expect(outcome(await inviteBy(c.bob, g.id))).toEqual([403, 'forbidden']);
    // The owner cannot allow themselves; those who cannot see the group are told nothing.
    expect(outcome(await setInvites(c.bob, g.id, true))).toEqual([403, 'forbidden']);
    expect(outcome(await setInvites(c.alice, g.id, true))).toEqual([404, 'not_found']);
    expect(outcome(await setInvites(outsider, g.id, true))).toEqual([404, 'not_found']);
    expect(outcome(await setInvites(other.moderator, g.id, true))).toEqual([404, 'not_found']);
    for (const body of [{}, { members_can_invite: 'yes' }]) {
      expect(outcome(await call(c.moderator, 'PATCH', `/api/groups/${g.id}/personal`, body))).toEqual([
        400,
        'validation_error',
      ]);
    }
    expect((await groupAs(c.bob, g.id)).members_can_invite).toBe(false);

    const events = await recordEvents(t, topics.group(g.id), topics.user(c.bob.id));
    const allowed = await setInvites(c.moderator, g.id, true);
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect(allowed.json()).toMatchObject({ members_can_invite: true });
    expect(await groupAs(c.bob, g.id)).toMatchObject({ members_can_invite: true, my_role: 'admin' });
    await events.stop();
    for (const topic of [topics.group(g.id), topics.user(c.bob.id)]) {
      expect(events.seen.filter((s) => s.topic === topic).map((s) => s.event)).toEqual([
        expect.objectContaining({ type: 'group.updated', group_id: g.id, fields: ['members_can_invite'] }),
      ]);
    }

    // Allowed: the owner invites, and so does a group admin the owner appoints.
    const res = await inviteBy(c.bob, g.id);
    expect(res.statusCode, res.body).toBe(201);
    await joinBy(c.carol, (res.json() as { code: string }).code);
    expect(
      (await call(c.bob, 'PATCH', `/api/groups/${g.id}/members/${c.carol.id}`, { role: 'admin' })).statusCode,
    ).toBe(200);
    expect((await inviteBy(c.carol, g.id)).statusCode).toBe(201);

    // Withdrawn: only moderators and above invite again.
    expect((await setInvites(c.admin, g.id, false)).json()).toMatchObject({ members_can_invite: false });
    expect(outcome(await inviteBy(c.bob, g.id))).toEqual([403, 'forbidden']);
    expect(outcome(await inviteBy(c.carol, g.id))).toEqual([403, 'forbidden']);
    for (const as of [c.moderator, c.admin, c.owner, instanceAdmin]) {
      expect((await inviteBy(as, g.id)).statusCode).toBe(201);
    }

    // Only personal groups have this setting.
    const plain = await createGroup(t, c.owner, c.id, { name: 'Plain', visibility: 'private' });
    expect(outcome(await setInvites(c.moderator, plain.id, true))).toEqual([400, 'bad_request']);
    expect(outcome(await setInvites(c.owner, plain.id, true))).toEqual([400, 'bad_request']);
  });

  it('is out of reach of its owner once they are banned from the community', async () => {
    const owner = await freshUser(t, 'powner');
    await db()
      .insertInto('community_members')
      .values({ community_id: c.id, user_id: owner.id, role: 'member', nickname: null, joined_at: Date.now() })
      .execute();
    const g = await assign(c.moderator, owner, 'Soon gone');
    const [general] = await channelsOf(t, owner, g.id);
    const ban = await call(c.moderator, 'POST', `/api/communities/${c.id}/bans`, { user_id: owner.id });
    expect(ban.statusCode, ban.body).toBe(201);
    expect(outcome(await call(owner, 'GET', `/api/groups/${g.id}`))).toEqual([404, 'not_found']);
    expect(outcome(await call(owner, 'GET', `/api/channels/${general!.id}`))).toEqual([404, 'not_found']);
    expect(outcome(await call(owner, 'POST', `/api/groups/${g.id}/channels`, { name: 'x', kind: 'text' }))).toEqual([
      404,
      'not_found',
    ]);
    expect(outcome(await call(owner, 'PATCH', `/api/channels/${general!.id}`, { topic: 'x' }))).toEqual([
      404,
      'not_found',
    ]);
    // The moderators keep it.
    expect((await call(c.moderator, 'GET', `/api/groups/${g.id}`)).statusCode).toBe(200);
  });
});

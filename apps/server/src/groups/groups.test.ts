import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../spaces/events.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';
import {
  addToCommunity,
  caller,
  channelsOf,
  createGroup,
  freshUser,
  outcome,
  recordEvents,
  seedCommunity,
  type TestCommunity,
} from './test-helpers.js';

describe.each(DIALECTS)('groups on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;
  let c: TestCommunity;
  let other: TestCommunity;
  let outsider: TestUser;
  let instanceAdmin: TestUser;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    call = caller(t);
    c = await seedCommunity(t, 'g');
    other = await seedCommunity(t, 'o');
    outsider = await freshUser(t, 'outs');
    instanceAdmin = await freshUser(t, 'iadm', { instanceRole: 'admin' });
  });
  afterAll(() => t.close());

  const groupsSeenBy = async (user: TestUser, communityId = c.id) => {
    const res = await call(user, 'GET', `/api/communities/${communityId}/groups`);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { groups: { id: string; joined: boolean; my_role: string | null }[] }).groups;
  };

  it('creates a group with #general, its creator as admin, and every member in a public group', async () => {
    const events = await recordEvents(t, topics.community(c.id));
    const group = await createGroup(t, c.admin, c.id, { name: '  Lounge ', description: 'Chat', visibility: 'public' });
    expect(group).toMatchObject({
      name: 'Lounge',
      description: 'Chat',
      visibility: 'public',
      discoverable: true,
      joined: true,
      my_role: 'admin',
      member_count: 6,
      personal_owner_id: null,
    });
    expect((await channelsOf(t, c.alice, group.id)).map((ch) => [ch.name, ch.kind])).toEqual([['general', 'text']]);
    const alice = (await groupsSeenBy(c.alice)).find((g) => g.id === group.id);
    expect(alice).toMatchObject({ joined: true, my_role: 'member' });
    await events.stop();
    expect(events.seen.map((s) => s.event)).toContainEqual(
      expect.objectContaining({ type: 'group.created', group_id: group.id, community_id: c.id }),
    );
  });

  it('follows who_can_create_groups and refuses bad input without creating anything', async () => {
    const before = await t.db.database.db.selectFrom('groups').select('id').execute();
    const url = `/api/communities/${c.id}/groups`;
    expect(outcome(await call(c.alice, 'POST', url, { name: 'x', visibility: 'public' }))).toEqual([403, 'forbidden']);
    expect(outcome(await call(c.moderator, 'POST', url, { name: 'x', visibility: 'public' }))).toEqual([
      403,
      'forbidden',
    ]);
    expect(outcome(await call(outsider, 'POST', url, { name: 'x', visibility: 'public' }))).toEqual([404, 'not_found']);
    expect(outcome(await call(null, 'POST', url, { name: 'x', visibility: 'public' }))[0]).toBe(401);
    for (const body of [
      { name: '', visibility: 'public' },
      { name: '   ', visibility: 'public' },
      { name: 'x'.repeat(65), visibility: 'public' },
      { name: 'x', visibility: 'secret' },
      { name: 'x' },
      { name: 'x', visibility: 'public', description: 'd'.repeat(2049) },
    ]) {
      expect(outcome(await call(c.owner, 'POST', url, body))).toEqual([400, 'validation_error']);
    }
    expect(await t.db.database.db.selectFrom('groups').select('id').execute()).toHaveLength(before.length);
    await t.db.database.db
      .updateTable('communities')
      .set({ who_can_create_groups: 'everyone' })
      .where('id', '=', c.id)
      .execute();
    const mine = await createGroup(t, c.carol, c.id, { name: 'Carol’s', visibility: 'private' });
    expect(mine).toMatchObject({ my_role: 'admin', member_count: 1, discoverable: false });
    await t.db.database.db
      .updateTable('communities')
      .set({ who_can_create_groups: 'admin' })
      .where('id', '=', c.id)
      .execute();
  });

  it('shows private groups only to their members and to moderators and above', async () => {
    const secret = await createGroup(t, c.owner, c.id, { name: 'Secret', visibility: 'private' });
    const ids = async (u: TestUser) => (await groupsSeenBy(u)).map((g) => g.id);
    expect(await ids(c.alice)).not.toContain(secret.id);
    expect(await ids(c.owner)).toContain(secret.id);
    expect(await ids(c.moderator)).toContain(secret.id);
    const asMod = (await groupsSeenBy(c.moderator)).find((g) => g.id === secret.id);
    expect(asMod).toMatchObject({ joined: false, my_role: null });
    expect(await ids(instanceAdmin)).toContain(secret.id);
    expect(outcome(await call(outsider, 'GET', `/api/communities/${c.id}/groups`))).toEqual([404, 'not_found']);
    expect(outcome(await call(c.alice, 'GET', `/api/groups/${secret.id}`))).toEqual([404, 'not_found']);
    expect((await call(c.moderator, 'GET', `/api/groups/${secret.id}`)).statusCode).toBe(200);
    // A group id of another community is "not found" there, whatever the caller's role here.
    const elsewhere = await createGroup(t, other.owner, other.id, { name: 'Theirs', visibility: 'public' });
    for (const u of [c.owner, c.admin, c.alice]) {
      expect(outcome(await call(u, 'GET', `/api/groups/${elsewhere.id}`))).toEqual([404, 'not_found']);
      expect(outcome(await call(u, 'PATCH', `/api/groups/${elsewhere.id}`, { name: 'Mine' }))).toEqual([
        404,
        'not_found',
      ]);
    }
  });

  it('discovers unjoined public groups in full and private discoverable ones by name only', async () => {
    const pub = await createGroup(t, c.owner, c.id, { name: 'Open door', visibility: 'public', description: 'Hi' });
    const hidden = await createGroup(t, c.owner, c.id, { name: 'Hidden', visibility: 'private' });
    const listed = await createGroup(t, c.owner, c.id, {
      name: 'Listed',
      visibility: 'private',
      discoverable: true,
      description: 'secret plans',
    });
    expect((await call(c.bob, 'POST', `/api/groups/${pub.id}/leave`)).statusCode).toBe(204);
    const res = await call(c.bob, 'GET', `/api/communities/${c.id}/groups/discover`);
    expect(res.statusCode).toBe(200);
    const found = (res.json() as { groups: { id: string }[] }).groups;
    expect(found.find((g) => g.id === pub.id)).toMatchObject({ name: 'Open door', description: 'Hi', member_count: 5 });
    expect(found.find((g) => g.id === listed.id)).toEqual({
      id: listed.id,
      name: 'Listed',
      visibility: 'private',
      description: null,
      icon_url: null,
      accent_color: null,
      member_count: null,
    });
    expect(found.map((g) => g.id)).not.toContain(hidden.id);
    // The owner is in all three: nothing of them to discover.
    const owners = (await call(c.owner, 'GET', `/api/communities/${c.id}/groups/discover`)).json().groups as {
      id: string;
    }[];
    expect(owners.map((g) => g.id)).not.toContain(pub.id);
    // Bob rejoins the public group, but a private one cannot be joined without an invite.
    expect((await call(c.bob, 'POST', `/api/groups/${pub.id}/join`)).json()).toMatchObject({ joined: true });
    expect(outcome(await call(c.bob, 'POST', `/api/groups/${listed.id}/join`))).toEqual([404, 'not_found']);
  });

  it('updates name, description, colour and visibility for group admins and moderators only', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Club', visibility: 'private' });
    const url = `/api/groups/${g.id}`;
    const events = await recordEvents(t, topics.group(g.id));
    expect(outcome(await call(c.alice, 'PATCH', url, { name: 'Mine' }))).toEqual([404, 'not_found']);
    expect(outcome(await call(c.admin, 'PATCH', url, { accent_color: 'red' }))).toEqual([400, 'validation_error']);
    expect(outcome(await call(c.admin, 'PATCH', url, {}))).toEqual([400, 'bad_request']);
    const res = await call(c.moderator, 'PATCH', url, {
      name: 'Book club',
      accent_color: '#AABBCC',
      description: 'Read',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Book club', accent_color: '#aabbcc', description: 'Read' });
    expect((await call(c.admin, 'PATCH', url, { accent_color: null })).json()).toMatchObject({ accent_color: null });
    // Going public brings every community member in.
    const pub = await call(c.owner, 'PATCH', url, { visibility: 'public' });
    expect(pub.json()).toMatchObject({ visibility: 'public', member_count: 6 });
    expect((await call(c.alice, 'GET', url)).json()).toMatchObject({ joined: true, my_role: 'member' });
    await events.stop();
    expect(events.types(topics.group(g.id))).toEqual(expect.arrayContaining(['group.updated', 'member.joined']));
  });

  it('uploads and removes a group icon through the image pipeline', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Art', visibility: 'public' });
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const put = (u: TestUser) =>
      t.app.inject({
        method: 'PUT',
        url: `/api/groups/${g.id}/icon`,
        headers: { ...u.auth, 'content-type': 'image/png' },
        payload: png,
      });
    expect((await put(c.alice)).statusCode).toBe(403);
    const res = await put(c.owner);
    expect(res.statusCode, res.body).toBe(200);
    const iconUrl = (res.json() as { icon_url: string }).icon_url;
    expect(iconUrl).toMatch(/^\/api\/assets\/[0-9a-f]{64}\.webp$/);
    expect((await t.app.inject({ method: 'GET', url: iconUrl })).statusCode).toBe(200);
    const del = await call(c.owner, 'DELETE', `/api/groups/${g.id}/icon`);
    expect(del.json()).toMatchObject({ icon_url: null });
    expect((await t.app.inject({ method: 'GET', url: iconUrl })).statusCode).toBe(404);
  });

  it('deletes a group with its channels, audited, for group admins and moderators only', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Doomed', visibility: 'public' });
    const [general] = await channelsOf(t, c.owner, g.id);
    const events = await recordEvents(t, topics.group(g.id), topics.channel(general!.id));
    expect(outcome(await call(c.alice, 'DELETE', `/api/groups/${g.id}`))).toEqual([403, 'forbidden']);
    expect((await call(c.moderator, 'DELETE', `/api/groups/${g.id}`)).statusCode).toBe(204);
    expect(outcome(await call(c.owner, 'GET', `/api/groups/${g.id}`))).toEqual([404, 'not_found']);
    expect(outcome(await call(c.owner, 'GET', `/api/channels/${general!.id}`))).toEqual([404, 'not_found']);
    const audit = await t.db.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'group_deleted')
      .execute();
    expect(audit.map((a) => a.target_id)).toContain(g.id);
    await events.stop();
    expect(events.types(topics.group(g.id))).toContain('group.deleted');
    expect(events.types(topics.channel(general!.id))).toContain('channel.deleted');
  });

  it('refuses the 201st group of a community', async () => {
    const x = await seedCommunity(t, 'lim');
    const now = Date.now();
    await t.db.database.db
      .insertInto('groups')
      .values(
        Array.from({ length: 199 }, (_, i) => ({
          id: randomUUID(),
          community_id: x.id,
          name: `g${i}`,
          icon_asset: null,
          banner_asset: null,
          accent_color: null,
          personal_owner_id: null,
          created_by: x.owner.id,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
    await createGroup(t, x.owner, x.id, { name: 'Two hundredth' });
    const res = await call(x.owner, 'POST', `/api/communities/${x.id}/groups`, {
      name: 'One too many',
      visibility: 'public',
    });
    expect(outcome(res)).toEqual([409, 'limit_reached']);
  });

  it('joins and leaves public groups: community members only, not banned users', async () => {
    const g = await createGroup(t, c.owner, c.id, { name: 'Hall', visibility: 'public' });
    const newcomer = await freshUser(t, 'newc');
    expect(outcome(await call(newcomer, 'POST', `/api/groups/${g.id}/join`))).toEqual([404, 'not_found']);
    await addToCommunity(t, c.id, newcomer);
    const events = await recordEvents(t, topics.group(g.id));
    expect((await call(newcomer, 'POST', `/api/groups/${g.id}/join`)).json()).toMatchObject({
      joined: true,
      group: { joined: true, my_role: 'member' },
    });
    expect((await call(newcomer, 'POST', `/api/groups/${g.id}/join`)).json()).toMatchObject({ joined: false });
    expect((await call(newcomer, 'POST', `/api/groups/${g.id}/leave`)).statusCode).toBe(204);
    expect(outcome(await call(newcomer, 'POST', `/api/groups/${g.id}/leave`))).toEqual([403, 'forbidden']);
    await events.stop();
    expect(events.types(topics.group(g.id))).toEqual(['member.joined', 'member.left']);
    // Banned: the community is gone for them, and so is the group.
    await t.db.database.db
      .insertInto('community_bans')
      .values({
        community_id: c.id,
        user_id: newcomer.id,
        reason: 'spam',
        banned_by: c.owner.id,
        created_at: Date.now(),
      })
      .execute();
    expect(outcome(await call(newcomer, 'POST', `/api/groups/${g.id}/join`))).toEqual([404, 'not_found']);
    // Instance admins see every group but join only communities they belong to.
    expect(outcome(await call(instanceAdmin, 'POST', `/api/groups/${g.id}/join`))).toEqual([403, 'forbidden']);
  });
});

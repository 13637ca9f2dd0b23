import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../spaces/events.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { createUser, type TestUser } from '../test-support/users.js';
import { caller, communityWith, freshUser, recordEvents } from './test-helpers.js';

describe.each(DIALECTS)('community creation mode on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t.close());

  it('admin_only (the default) lets only instance admins create communities', async () => {
    const call = caller(t);
    const user = await createUser(t, 'plainuser');
    const admin = await createUser(t, 'instadmin', { instanceRole: 'admin' });
    expect((await call(user, 'POST', '/api/communities', { name: 'Mine' })).statusCode).toBe(403);
    expect((await call(null, 'POST', '/api/communities', { name: 'Mine' })).statusCode).toBe(401);
    const res = await call(admin, 'POST', '/api/communities', { name: 'Mine', description: 'About' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: 'Mine', description: 'About', my_role: 'owner', member_count: 1 });
    // It comes with one public group, General, whose #general channel the owner is in.
    const communityId = (res.json() as { id: string }).id;
    const groups = await t.db.database.db
      .selectFrom('groups')
      .select(['id', 'name', 'visibility'])
      .where('community_id', '=', communityId)
      .execute();
    expect(groups).toEqual([expect.objectContaining({ name: 'General', visibility: 'public' })]);
    const channels = await t.db.database.db
      .selectFrom('channels')
      .select('name')
      .where('group_id', '=', groups[0]!.id)
      .execute();
    expect(channels).toEqual([{ name: 'general' }]);
    const membership = await t.db.database.db
      .selectFrom('group_members')
      .select('role')
      .where('group_id', '=', groups[0]!.id)
      .where('user_id', '=', admin.id)
      .executeTakeFirst();
    expect(membership).toEqual({ role: 'admin' });
  });
});

describe.each(DIALECTS)('communities on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;
  let owner: TestUser;
  let outsider: TestUser;
  let instanceAdmin: TestUser;
  let c: Awaited<ReturnType<typeof communityWith>>;

  beforeAll(async () => {
    t = await createTestApp(dialect, { env: { COMMUNITY_CREATION_MODE: 'open' } });
    call = caller(t);
    owner = await freshUser(t, 'owner');
    outsider = await freshUser(t, 'outsider');
    instanceAdmin = await createUser(t, 'iadmin', { instanceRole: 'admin' });
    c = await communityWith(t, owner, { admin: 'admin', mod: 'moderator', member: 'member' });
  });
  afterAll(() => t.close());

  it('lets any signed-in user create one in open mode, within the limits', async () => {
    const res = await call(outsider, 'POST', '/api/communities', { name: '  Spaced  ' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: 'Spaced', owner_id: outsider.id, my_role: 'owner', discoverable: false });
    for (const body of [{ name: '' }, { name: 'x'.repeat(65) }, { name: 'ok', description: 'd'.repeat(2049) }, {}]) {
      const bad = await call(outsider, 'POST', '/api/communities', body);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe('validation_error');
    }
  });

  it('lists the caller’s communities with their role', async () => {
    const res = await call(c.users.mod!, 'GET', '/api/communities');
    expect(res.statusCode).toBe(200);
    expect(res.json().communities).toEqual([
      expect.objectContaining({ id: c.id, my_role: 'moderator', member_count: 4 }),
    ]);
    expect((await call(instanceAdmin, 'GET', '/api/communities')).json().communities).toEqual([]);
  });

  it('shows a community to its members and instance admins only', async () => {
    const res = await call(c.users.member!, 'GET', `/api/communities/${c.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: c.id, member_count: 4, my_role: 'member', theme: { colors: {}, css: '' } });
    expect((await call(outsider, 'GET', `/api/communities/${c.id}`)).statusCode).toBe(404);
    expect((await call(null, 'GET', `/api/communities/${c.id}`)).statusCode).toBe(401);
    const asAdmin = await call(instanceAdmin, 'GET', `/api/communities/${c.id}`);
    expect(asAdmin.statusCode).toBe(200);
    expect(asAdmin.json().my_role).toBeNull();
    expect((await call(owner, 'GET', '/api/communities/nope')).statusCode).toBe(404);
  });

  it('lets admins change settings and tells the community', async () => {
    const events = await recordEvents(t, topics.community(c.id));
    const res = await call(c.users.admin!, 'PATCH', `/api/communities/${c.id}`, {
      name: 'Renamed',
      welcome_message: 'Hi!',
      discoverable: true,
      who_can_create_groups: 'moderator',
      who_can_create_invites: 'admin',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      name: 'Renamed',
      welcome_message: 'Hi!',
      discoverable: true,
      who_can_create_groups: 'moderator',
      who_can_create_invites: 'admin',
    });
    expect(events.types(topics.community(c.id))).toEqual(['community.updated']);
    await events.stop();
    expect((await call(c.users.mod!, 'PATCH', `/api/communities/${c.id}`, { name: 'x' })).statusCode).toBe(403);
    expect((await call(outsider, 'PATCH', `/api/communities/${c.id}`, { name: 'x' })).statusCode).toBe(404);
    const tooLong = await call(owner, 'PATCH', `/api/communities/${c.id}`, { welcome_message: 'w'.repeat(2001) });
    expect(tooLong.statusCode).toBe(400);
    expect((await call(owner, 'PATCH', `/api/communities/${c.id}`, { who_can_create_groups: 'all' })).statusCode).toBe(
      400,
    );
    expect((await call(owner, 'PATCH', `/api/communities/${c.id}`, {})).statusCode).toBe(400);
    expect(
      (await call(instanceAdmin, 'PATCH', `/api/communities/${c.id}`, { description: 'by staff' })).statusCode,
    ).toBe(200);
    const after = (await call(owner, 'GET', `/api/communities/${c.id}`)).json();
    expect(after).toMatchObject({ name: 'Renamed', description: 'by staff' });
    // Back to the defaults the other tests assume.
    await call(owner, 'PATCH', `/api/communities/${c.id}`, { who_can_create_invites: 'everyone' });
  });

  it('stores a theme with its CSS sanitised and scoped to the community, and refuses unsafe CSS', async () => {
    const url = `/api/communities/${c.id}`;
    const res = await call(c.users.admin!, 'PATCH', url, {
      theme: { colors: { accent: '#FF0000', background: 'rgb(0, 0, 0)' }, css: '.message { color: red; }' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const theme = res.json().theme as { colors: Record<string, string>; css: string };
    expect(theme.colors.accent).toBeDefined();
    expect(theme.css).toContain(`[data-community-theme="${c.id}"]`);
    expect(theme.css).toContain('.message');
    for (const css of [
      '@import url(https://evil.example/x.css);',
      '.a { position: fixed; }',
      '.a { background: url(javascript:alert(1)) }',
    ]) {
      const bad = await call(c.users.admin!, 'PATCH', url, { theme: { css }, name: 'Should not apply' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe('validation_error');
      expect(bad.json().error.details[0].path).toMatch(/^theme/);
    }
    expect((await call(c.users.admin!, 'PATCH', url, { theme: { colours: {} } })).statusCode).toBe(400);
    expect((await call(c.users.admin!, 'PATCH', url, { theme: { colors: { shadow: '#000' } } })).statusCode).toBe(400);
    const stored = (await call(c.users.member!, 'GET', url)).json();
    expect(stored.name).not.toBe('Should not apply');
    expect(stored.theme).toEqual(theme);
    const reset = await call(c.users.admin!, 'PATCH', url, { theme: null });
    expect(reset.json().theme).toEqual({ colors: {}, css: '' });
  });

  it('uploads and removes the icon and banner through the image pipeline', async () => {
    const png = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const upload = (user: TestUser, slot: string, body: Buffer | string) =>
      t.app.inject({
        method: 'PUT',
        url: `/api/communities/${c.id}/${slot}`,
        headers: { ...user.auth, 'content-type': 'image/png' },
        payload: body,
      });
    const res = await upload(c.users.admin!, 'icon', png);
    expect(res.statusCode, res.body).toBe(200);
    const iconUrl = res.json().icon_url as string;
    expect(iconUrl).toMatch(/^\/api\/assets\/[0-9a-f]{64}\.webp$/);
    const asset = await t.app.inject({ method: 'GET', url: iconUrl });
    expect(asset.statusCode).toBe(200);
    expect((await sharp(asset.rawPayload).metadata()).width).toBe(512);
    expect((await upload(c.users.admin!, 'banner', png)).json().banner_url).toMatch(/^\/api\/assets\//);
    expect((await upload(c.users.mod!, 'icon', png)).statusCode).toBe(403);
    expect((await upload(outsider, 'icon', png)).statusCode).toBe(404);
    expect((await upload(c.users.admin!, 'icon', 'not an image')).statusCode).toBe(415);

    const removed = await call(c.users.admin!, 'DELETE', `/api/communities/${c.id}/icon`);
    expect(removed.statusCode).toBe(200);
    expect(removed.json().icon_url).toBeNull();
    expect((await t.app.inject({ method: 'GET', url: iconUrl })).statusCode).toBe(404);
    expect((await call(c.users.mod!, 'DELETE', `/api/communities/${c.id}/banner`)).statusCode).toBe(403);
  });

  it('transfers ownership only from the owner to a member; the old owner becomes an admin', async () => {
    const xOwner = await freshUser(t, 'towner');
    const x = await communityWith(t, xOwner, { admin: 'admin', mod: 'moderator' });
    const url = `/api/communities/${x.id}/transfer`;
    expect((await call(x.users.admin!, 'POST', url, { user_id: x.users.mod!.id })).statusCode).toBe(403);
    expect((await call(instanceAdmin, 'POST', url, { user_id: x.users.mod!.id })).statusCode).toBe(403);
    expect((await call(outsider, 'POST', url, { user_id: outsider.id })).statusCode).toBe(404);
    expect((await call(xOwner, 'POST', url, { user_id: outsider.id })).statusCode).toBe(404);
    expect((await call(xOwner, 'POST', url, { user_id: xOwner.id })).statusCode).toBe(400);

    const events = await recordEvents(t, topics.community(x.id));
    const res = await call(xOwner, 'POST', url, { user_id: x.users.mod!.id });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ owner_id: x.users.mod!.id, my_role: 'admin' });
    const members = (await call(xOwner, 'GET', `/api/communities/${x.id}/members`)).json().members as {
      user_id: string;
      role: string;
    }[];
    expect(members.find((m) => m.user_id === x.users.mod!.id)?.role).toBe('owner');
    expect(members.find((m) => m.user_id === xOwner.id)?.role).toBe('admin');
    expect(events.types(topics.community(x.id))).toEqual([
      'community.updated',
      'member.role_updated',
      'member.role_updated',
    ]);
    await events.stop();
    // The old owner lost the owner's powers at once; the new owner has them.
    expect((await call(xOwner, 'POST', url, { user_id: xOwner.id })).statusCode).toBe(403);
    expect((await call(xOwner, 'DELETE', `/api/communities/${x.id}`)).statusCode).toBe(403);
    expect((await call(x.users.mod!, 'POST', url, { user_id: xOwner.id })).statusCode).toBe(200);
    const audit = await t.db.database.db
      .selectFrom('audit_log')
      .select(['actor_id', 'target_id'])
      .where('action', '=', 'community_transferred')
      .orderBy('created_at')
      .execute();
    expect(audit.slice(-2)).toEqual([
      { actor_id: xOwner.id, target_id: x.users.mod!.id },
      { actor_id: x.users.mod!.id, target_id: xOwner.id },
    ]);
  });

  it('deletes a community for its owner only, and tells every member', async () => {
    const x = await communityWith(t, outsider, { admin: 'admin', member: 'member' });
    const events = await recordEvents(t, topics.user(x.users.member!.id));
    expect((await call(x.users.admin!, 'DELETE', `/api/communities/${x.id}`)).statusCode).toBe(403);
    expect((await call(instanceAdmin, 'DELETE', `/api/communities/${x.id}`)).statusCode).toBe(403);
    expect((await call(owner, 'DELETE', `/api/communities/${x.id}`)).statusCode).toBe(404);
    expect((await call(outsider, 'DELETE', `/api/communities/${x.id}`)).statusCode).toBe(204);
    expect((await call(x.users.member!, 'GET', `/api/communities/${x.id}`)).statusCode).toBe(404);
    expect((await call(x.users.member!, 'GET', '/api/communities')).json().communities).toEqual([]);
    expect(events.types(topics.user(x.users.member!.id))).toEqual(['community.deleted']);
    await events.stop();
    const audit = await t.db.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', x.id)
      .execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['community_created', 'community_deleted']);
  });
});

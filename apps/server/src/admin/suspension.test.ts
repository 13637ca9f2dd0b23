import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { createUser } from '../test-support/users.js';

describe.each(DIALECTS)('suspending accounts on %s', (dialect) => {
  let t: TestApp;
  let world: SpacesWorld;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    world = await buildSpacesWorld(t, 'susp');
  });
  afterAll(() => t.close());

  const suspend = (actor: { authorization: string }, userId: string) =>
    t.app.inject({ method: 'POST', url: `/api/admin/users/${userId}/suspend`, headers: actor, payload: {} });
  const profile = (auth: { authorization: string }) =>
    t.app.inject({ method: 'GET', url: '/api/account/profile', headers: auth });

  it('signs the user out everywhere, announces it, and is lifted by unsuspend', async () => {
    const user = await createUser(t, 'to_suspend');
    const events: string[] = [];
    const stop = await t.broker.subscribe(`user:${user.id}`, (payload) => events.push(JSON.parse(payload).type));
    expect((await suspend(world.users.instanceAdmin.auth, user.id)).statusCode).toBe(204);
    expect((await profile(user.auth)).statusCode).toBe(401);
    expect(events).toContain('session.revoked');
    expect(events).toContain('user.suspended');
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: user.username, password: user.password },
    });
    expect(login.json().error.code).toBe('account_suspended');

    const lift = await t.app.inject({
      method: 'POST',
      url: `/api/admin/users/${user.id}/unsuspend`,
      headers: world.users.instanceAdmin.auth,
    });
    expect(lift.statusCode).toBe(204);
    const back = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: user.username, password: user.password },
    });
    expect(back.statusCode).toBe(200);
    await stop();
  });

  it('is for instance admins only, never on themselves or the owner, and admins only by the owner', async () => {
    const user = await createUser(t, 'victim');
    expect((await suspend(world.users.owner.auth, user.id)).statusCode).toBe(403);
    expect((await suspend(world.users.instanceAdmin.auth, world.users.instanceAdmin.id)).statusCode).toBe(400);
    const owner = await createUser(t, 'the_owner', { instanceRole: 'owner' });
    expect((await suspend(world.users.instanceAdmin.auth, owner.id)).statusCode).toBe(403);
    const otherAdmin = await createUser(t, 'other_admin', { instanceRole: 'admin' });
    expect((await suspend(world.users.instanceAdmin.auth, otherAdmin.id)).statusCode).toBe(403);
    expect((await suspend(owner.auth, otherAdmin.id)).statusCode).toBe(204);
    expect((await suspend(world.users.instanceAdmin.auth, 'no-such-user')).statusCode).toBe(404);
  });

  it('records both actions in the audit log', async () => {
    const user = await createUser(t, 'audited');
    await suspend(world.users.instanceAdmin.auth, user.id);
    const rows = await t.db.database.db
      .selectFrom('audit_log')
      .select(['action', 'actor_id'])
      .where('target_id', '=', user.id)
      .execute();
    expect(rows).toContainEqual({ action: 'user_suspended', actor_id: world.users.instanceAdmin.id });
  });
});

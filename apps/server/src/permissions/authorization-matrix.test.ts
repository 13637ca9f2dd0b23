import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACTORS,
  type ActorName,
  buildSpacesWorld,
  type CommunityIds,
  type SpacesWorld,
} from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { MATRIX, type MatrixCase } from './authorization-matrix.js';

const DENIED = [401, 403, 404];

interface Outcome {
  route: string;
  actor: ActorName;
  target: 'own' | 'other community';
  status: number;
  body: string;
}

/**
 * The authorization matrix: every route the app registers, asked by every kind of actor,
 * on ids of the actor's community and (IDOR) of a community they have nothing to do with.
 * An expected allow must pass authorization; everything else must be refused (401/403/404).
 * A route without an entry in MATRIX fails the test.
 */
describe.each(DIALECTS)('authorization matrix on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let world: SpacesWorld;
  let worlds = 0;

  const rebuild = async () => {
    world = await buildSpacesWorld(t, `w${worlds++}`);
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    app = t.app;
    await rebuild();
  });
  afterAll(() => t.close());

  it('has an entry for every registered route, and none for routes that do not exist', () => {
    const registered = app.routeTable.filter((r) => r.url.startsWith('/api')).map((r) => `${r.method} ${r.url}`);
    const covered = MATRIX.map((c) => c.route);
    expect(registered.filter((r) => !covered.includes(r)).sort()).toEqual([]);
    expect(covered.filter((r) => !registered.includes(r)).sort()).toEqual([]);
  });

  it('allows exactly the expected actors on every route, on their own ids and never on another community’s', async () => {
    const unexpectedAllows: Outcome[] = [];
    const unexpectedDenials: Outcome[] = [];
    for (const entry of MATRIX) {
      const targets: ('own' | 'other community')[] = entry.idor === false ? ['own'] : ['own', 'other community'];
      for (const target of targets) {
        for (const actor of ACTORS) {
          const ids = target === 'own' ? world.a : world.b;
          const outcome = await send(app, world, entry, actor, ids, target);
          const allowed = target === 'own' ? entry.allow.includes(actor) : (entry.idorAllow ?? []).includes(actor);
          const expectedAllowStatus = entry.allowedStatus ?? [200, 201, 204];
          if (allowed && !expectedAllowStatus.includes(outcome.status)) unexpectedDenials.push(outcome);
          if (!allowed && !DENIED.includes(outcome.status)) unexpectedAllows.push(outcome);
          // A change that went through may have altered the world: start the next request afresh.
          if (entry.route.split(' ')[0] !== 'GET' && outcome.status < 300) await rebuild();
        }
      }
    }
    expect(unexpectedAllows).toEqual([]);
    expect(unexpectedDenials).toEqual([]);
    // Thousands of requests with world rebuilds after each change: minutes on a busy machine.
  }, 600_000);
});

async function send(
  app: FastifyInstance,
  world: SpacesWorld,
  entry: MatrixCase,
  actor: ActorName,
  ids: CommunityIds,
  target: Outcome['target'],
): Promise<Outcome> {
  const [method, pattern] = entry.route.split(' ') as [string, string];
  const built = entry.request?.(world, ids, actor) ?? {};
  const url = built.url ?? fillParams(pattern, world, ids);
  const headers: Record<string, string> = { ...(built.headers ?? {}) };
  if (actor !== 'anonymous') Object.assign(headers, world.users[actor].auth);
  const res = await app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(built.payload !== undefined ? { payload: built.payload as Record<string, unknown> } : {}),
  });
  return { route: entry.route, actor, target, status: res.statusCode, body: res.body.slice(0, 200) };
}

/** Default ids for path parameters, by name. */
function fillParams(pattern: string, world: SpacesWorld, ids: CommunityIds): string {
  const values: Record<string, string> = {
    id: ids.community,
    communityId: ids.community,
    groupId: ids.publicGroup,
    channelId: ids.publicChannel,
    code: ids.invite,
    userId: world.users.target.id,
  };
  return pattern.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no default for :${name} in ${pattern}; give the case a request()`);
    return value;
  });
}

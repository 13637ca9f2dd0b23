import type { IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../test-support/gateway-load.js';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { TestSocket } from '../test-support/ws-client.js';

// A full garbage collection on demand (what --expose-gc gives), to see what an open socket keeps.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Memory per idle socket: once a socket is upgraded, its HTTP request (and with it the response,
 * Fastify's request and reply and their logger) must be garbage while the socket stays open.
 */
describe('an open gateway socket', () => {
  let t: TestApp;
  let url: string;
  let world: SpacesWorld;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await createTestApp('sqlite');
    url = (await listen(t)).wsUrl;
    world = await buildSpacesWorld(t, 'upgrade');
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await t.close();
  });

  it('keeps nothing of its upgrade request, and still serves the client', async () => {
    const upgrades: WeakRef<IncomingMessage>[] = [];
    const remember = (request: IncomingMessage) => upgrades.push(new WeakRef(request));
    t.app.server.on('upgrade', remember);
    for (let i = 0; i < 3; i++) {
      sockets.push(await TestSocket.signedIn(url, world.users.member.auth.authorization));
    }
    t.app.server.off('upgrade', remember);
    expect(upgrades).toHaveLength(3);

    // WeakRefs are cleared only after the turn that made them; collect twice over a few turns.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(upgrades.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);

    for (const socket of sockets) {
      socket.send({ op: 'ping', ref: 'after-gc' });
      expect(await socket.next((f) => f.type === 'pong')).toMatchObject({ ref: 'after-gc' });
    }
  });
});

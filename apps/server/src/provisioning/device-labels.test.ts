import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, freshUser, newIdentity, outcome, registerDevice } from '../keys/test-helpers.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';

describe.each(DIALECTS)('device labels on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    call = caller(t);
  });
  afterAll(() => t.close());

  it('records how each own device names itself and when it was last seen', async () => {
    const alice = await freshUser(t, 'alice');
    const identity = newIdentity();
    const first = await registerDevice(t, alice, identity);
    const second = await registerDevice(t, alice, identity);
    expect((await call(alice, 'GET', '/api/provisioning/devices')).json()).toEqual({ labels: [] });

    const before = Date.now();
    const res = await call(alice, 'PUT', `/api/provisioning/devices/${first}`, { name: ' Firefox on Linux ' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ device_id: first, name: 'Firefox on Linux' });
    expect((res.json() as { last_seen_at: number }).last_seen_at).toBeGreaterThanOrEqual(before);
    await call(alice, 'PUT', `/api/provisioning/devices/${second}`, { name: 'Chrome on Android' });
    await call(alice, 'PUT', `/api/provisioning/devices/${first}`, { name: 'Firefox on Windows' });

    const list = (await call(alice, 'GET', '/api/provisioning/devices')).json() as {
      labels: { device_id: number; name: string }[];
    };
    expect(list.labels.map((l) => [l.device_id, l.name])).toEqual([
      [first, 'Firefox on Windows'],
      [second, 'Chrome on Android'],
    ]);

    // A removed device takes its label with it.
    expect((await call(alice, 'DELETE', `/api/keys/devices/${second}`)).statusCode).toBe(204);
    const after = (await call(alice, 'GET', '/api/provisioning/devices')).json() as { labels: unknown[] };
    expect(after.labels).toHaveLength(1);
  });

  it('keeps labels to their owner', async () => {
    const alice = await freshUser(t, 'alice');
    const mallory = await freshUser(t, 'mallory');
    const device = await registerDevice(t, alice, newIdentity());
    await call(alice, 'PUT', `/api/provisioning/devices/${device}`, { name: 'Firefox on Linux' });

    expect(outcome(await call(mallory, 'PUT', `/api/provisioning/devices/${device}`, { name: 'Evil' }))).toEqual([
      404,
      'not_found',
    ]);
    expect((await call(mallory, 'GET', '/api/provisioning/devices')).json()).toEqual({ labels: [] });
    expect(outcome(await call(alice, 'PUT', '/api/provisioning/devices/99', { name: 'x' }))).toEqual([
      404,
      'not_found',
    ]);
    expect(outcome(await call(alice, 'PUT', `/api/provisioning/devices/${device}`, { name: 'x'.repeat(65) }))).toEqual([
      400,
      'validation_error',
    ]);
    expect(outcome(await call(null, 'GET', '/api/provisioning/devices'))).toEqual([401, 'unauthorized']);
  });
});

import { randomUUID } from 'node:crypto';
import { PROVISIONING_LIMITS } from '@chatalot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessTokens } from '../auth/tokens.js';
import { caller, freshUser, outcome } from '../keys/test-helpers.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';

const KEY = 'aYH6nHQnQ050RDcNm1gK_V7l39-9l4_KPgwNEdRLZ5g';
const ENVELOPE = Buffer.from('opaque ciphertext the server never reads').toString('base64');

describe.each(DIALECTS)('device linking (provisioning) on %s', (dialect) => {
  let t: TestApp;
  let call: ReturnType<typeof caller>;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    call = caller(t);
  });
  afterAll(() => t.close());

  /** Another signed-in session of the same user (the new browser). */
  async function signInAgain(user: TestUser): Promise<TestUser> {
    const sessionId = randomUUID();
    const now = Date.now();
    await t.db.database.db
      .insertInto('sessions')
      .values({
        id: sessionId,
        user_id: user.id,
        device_name: 'second browser',
        ip: null,
        user_agent: null,
        created_at: now,
        last_used_at: now,
        revoked_at: null,
      })
      .execute();
    const tokens = new AccessTokens(
      { privateKey: t.secrets.jwtPrivateKey, publicKey: t.secrets.jwtPublicKey },
      t.config.publicUrl ?? 'chatalot',
    );
    const token = await tokens.issue({ userId: user.id, sessionId });
    return { ...user, auth: { authorization: `Bearer ${token}` } };
  }

  async function open(user: TestUser, name = 'Chromium on Linux'): Promise<string> {
    const res = await call(user, 'POST', '/api/provisioning/sessions', { ephemeral_key: KEY, device_name: name });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  }
  const url = (id: string, rest = '') => `/api/provisioning/sessions/${id}${rest}`;

  it('relays one envelope from an existing session to the new one', async () => {
    const existing = await freshUser(t, 'alice');
    const fresh = await signInAgain(existing);
    const before = Date.now();
    const res = await call(fresh, 'POST', '/api/provisioning/sessions', {
      ephemeral_key: KEY,
      device_name: '  Firefox on Linux ',
    });
    expect(res.statusCode, res.body).toBe(201);
    const { id, expires_at } = res.json() as { id: string; expires_at: number };
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{10}$/);
    expect(expires_at).toBeGreaterThanOrEqual(before + PROVISIONING_LIMITS.sessionTtlMs);

    const seen = await call(existing, 'GET', url(id));
    expect(seen.statusCode, seen.body).toBe(200);
    expect(seen.json()).toMatchObject({ id, device_name: 'Firefox on Linux', ephemeral_key: KEY, approved: false });
    expect((await call(fresh, 'GET', url(id, '/envelope'))).json()).toEqual({ envelope: null });

    expect(outcome(await call(existing, 'POST', url(id, '/envelope'), { envelope: ENVELOPE }))).toEqual([
      204,
      undefined,
    ]);
    expect((await call(existing, 'GET', url(id))).json()).toMatchObject({ approved: true });
    expect((await call(fresh, 'GET', url(id, '/envelope'))).json()).toEqual({ envelope: ENVELOPE });

    expect((await call(fresh, 'DELETE', url(id))).statusCode).toBe(204);
    expect(outcome(await call(fresh, 'GET', url(id, '/envelope')))).toEqual([404, 'not_found']);
  });

  it('takes one envelope per session', async () => {
    const existing = await freshUser(t, 'bob');
    const fresh = await signInAgain(existing);
    const third = await signInAgain(existing);
    const id = await open(fresh);
    expect((await call(existing, 'POST', url(id, '/envelope'), { envelope: ENVELOPE })).statusCode).toBe(204);
    const other = Buffer.from('a replacement').toString('base64');
    expect(outcome(await call(third, 'POST', url(id, '/envelope'), { envelope: other }))).toEqual([409, 'conflict']);
    expect((await call(fresh, 'GET', url(id, '/envelope'))).json()).toEqual({ envelope: ENVELOPE });
  });

  it('keeps sessions from other users, and the envelope from the approving session', async () => {
    const owner = await freshUser(t, 'carol');
    const fresh = await signInAgain(owner);
    const mallory = await freshUser(t, 'mallory');
    const id = await open(fresh);

    expect(outcome(await call(mallory, 'GET', url(id)))).toEqual([404, 'not_found']);
    expect(outcome(await call(mallory, 'POST', url(id, '/envelope'), { envelope: ENVELOPE }))).toEqual([
      404,
      'not_found',
    ]);
    expect(outcome(await call(mallory, 'GET', url(id, '/envelope')))).toEqual([404, 'not_found']);
    expect(outcome(await call(mallory, 'DELETE', url(id)))).toEqual([404, 'not_found']);
    expect(outcome(await call(null, 'GET', url(id)))).toEqual([401, 'unauthorized']);

    // The new device cannot approve itself: approval comes from a device that has the key.
    expect(outcome(await call(fresh, 'POST', url(id, '/envelope'), { envelope: ENVELOPE }))).toEqual([
      403,
      'forbidden',
    ]);
    expect((await call(owner, 'POST', url(id, '/envelope'), { envelope: ENVELOPE })).statusCode).toBe(204);
    // Only the session that opened it reads the envelope, not the approver or anyone else.
    expect(outcome(await call(owner, 'GET', url(id, '/envelope')))).toEqual([404, 'not_found']);
    expect(outcome(await call(mallory, 'GET', url(id, '/envelope')))).toEqual([404, 'not_found']);
    expect((await call(fresh, 'GET', url(id, '/envelope'))).json()).toEqual({ envelope: ENVELOPE });
  });

  it('forgets a session once it expired', async () => {
    const owner = await freshUser(t, 'dave');
    const fresh = await signInAgain(owner);
    const id = await open(fresh);
    await t.db.database.db
      .updateTable('provisioning_sessions')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', id)
      .execute();
    expect(outcome(await call(owner, 'GET', url(id)))).toEqual([404, 'not_found']);
    expect(outcome(await call(owner, 'POST', url(id, '/envelope'), { envelope: ENVELOPE }))).toEqual([
      404,
      'not_found',
    ]);
    expect(outcome(await call(fresh, 'GET', url(id, '/envelope')))).toEqual([404, 'not_found']);
    // The next session opened purges it.
    await open(fresh);
    const left = await t.db.database.db
      .selectFrom('provisioning_sessions')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    expect(left).toBeUndefined();
  });

  it('limits sizes, open sessions and how fast sessions are opened', async () => {
    const owner = await freshUser(t, 'erin');
    const fresh = await signInAgain(owner);
    const tooLong = 'x'.repeat(PROVISIONING_LIMITS.deviceNameChars + 1);
    expect(
      outcome(await call(fresh, 'POST', '/api/provisioning/sessions', { ephemeral_key: KEY, device_name: tooLong })),
    ).toEqual([400, 'validation_error']);
    expect(
      outcome(await call(fresh, 'POST', '/api/provisioning/sessions', { ephemeral_key: 'AAAA', device_name: 'x' })),
    ).toEqual([400, 'validation_error']);

    const ids = [];
    for (let i = 0; i < PROVISIONING_LIMITS.openSessionsPerUser; i++) ids.push(await open(fresh));
    expect(
      outcome(await call(fresh, 'POST', '/api/provisioning/sessions', { ephemeral_key: KEY, device_name: 'x' })),
    ).toEqual([409, 'limit_reached']);

    const big = Buffer.alloc(PROVISIONING_LIMITS.envelopeBytes + 3).toString('base64');
    expect(outcome(await call(owner, 'POST', url(ids[0]!, '/envelope'), { envelope: big }))).toEqual([
      400,
      'validation_error',
    ]);
    expect(outcome(await call(owner, 'POST', url(ids[0]!, '/envelope'), { envelope: 'not base64!' }))).toEqual([
      400,
      'validation_error',
    ]);
    expect(outcome(await call(owner, 'GET', '/api/provisioning/sessions/lowercase00'))).toEqual([
      400,
      'validation_error',
    ]);

    // Closing one frees a slot; the creation bucket (a burst of 5) then runs out.
    expect((await call(fresh, 'DELETE', url(ids[0]!))).statusCode).toBe(204);
    await open(fresh);
    expect((await call(fresh, 'DELETE', url(ids[1]!))).statusCode).toBe(204);
    const res = await call(fresh, 'POST', '/api/provisioning/sessions', { ephemeral_key: KEY, device_name: 'x' });
    expect(outcome(res)).toEqual([429, 'rate_limited']);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});

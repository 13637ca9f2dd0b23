import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser, type RegisteredUser } from '../test-support/accounts.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';

type JsonSchema = {
  $ref?: string;
  type?: string;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  propertyNames?: JsonSchema;
};

interface Operation {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  auth: boolean;
  schema: JsonSchema;
}

/** A bad body and what must be true of the 400 it gets. */
interface BadBody {
  label: string;
  payload: string;
  /** A validation issue must name this path (when the offending field is known). */
  path?: string;
}

const json = (value: unknown) => JSON.stringify(value);

function typesOf(schema: JsonSchema): string[] {
  if (schema.type) return [schema.type];
  return (schema.anyOf ?? []).flatMap(typesOf);
}

/** Values of the wrong type (or out of range) for one property schema. */
function badValues(schema: JsonSchema): { label: string; value: unknown }[] {
  const types = typesOf(schema);
  const out: { label: string; value: unknown }[] = [];
  if (types.length === 0) return out; // any JSON value is fine
  if (!types.includes('number') && !types.includes('integer')) out.push({ label: 'a number', value: 12345 });
  if (!types.includes('boolean')) out.push({ label: 'a boolean', value: true });
  if (!types.includes('object')) out.push({ label: 'an object', value: { nested: 'x' } });
  if (!types.includes('array')) out.push({ label: 'an array', value: ['x'] });
  if (!types.includes('null')) out.push({ label: 'null', value: null });
  const strings = [schema, ...(schema.anyOf ?? [])].filter((s) => s.type === 'string');
  if (types.includes('string')) {
    out.push({ label: 'a 100 KB string', value: 'a'.repeat(100_000) });
    for (const s of strings) {
      if (s.maxLength !== undefined)
        out.push({ label: `${s.maxLength + 1} chars`, value: 'a'.repeat(s.maxLength + 1) });
      if (s.enum) out.push({ label: 'a value outside the enum', value: 'definitely-not-listed' });
    }
  }
  if (types.includes('integer') || types.includes('number')) {
    out.push({ label: 'a string', value: 'seven' });
    if (types.includes('integer')) out.push({ label: 'a fraction', value: 1.5 });
    if (schema.minimum !== undefined) out.push({ label: 'below the minimum', value: schema.minimum - 1 });
    if (schema.maximum !== undefined) out.push({ label: 'above the maximum', value: schema.maximum + 1 });
  }
  return out;
}

function badBodies(schema: JsonSchema): BadBody[] {
  const bodies: BadBody[] = [
    { label: 'an empty array', payload: '[]' },
    { label: 'an array of an object', payload: '[{}]' },
    { label: 'a string', payload: json('just a string') },
    { label: 'a number', payload: '42' },
    { label: 'true', payload: 'true' },
    { label: 'null', payload: 'null' },
  ];
  if (schema.required?.length) {
    bodies.push({ label: '{}', payload: '{}', path: schema.required[0]! });
    bodies.push({ label: '{"x":1}', payload: json({ x: 1 }), path: schema.required[0]! });
  }
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    for (const bad of badValues(property)) {
      bodies.push({ label: `${name} = ${bad.label}`, payload: json({ [name]: bad.value }), path: name });
    }
  }
  if (schema.propertyNames?.maxLength !== undefined) {
    const key = 'k'.repeat(schema.propertyNames.maxLength + 1);
    bodies.push({ label: 'a key that is too long', payload: json({ [key]: 1 }) });
  }
  return bodies;
}

describe.each(DIALECTS)('malformed input on %s', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let owner: RegisteredUser;
  let operations: Operation[];

  beforeAll(async () => {
    t = await createTestApp(dialect);
    app = t.app;
    owner = await registerUser(app, 'owner');
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
      paths: Record<string, Record<string, { requestBody?: unknown; security?: unknown[] }>>;
      components: { schemas: Record<string, JsonSchema> };
    };
    const resolve = (schema: JsonSchema): JsonSchema =>
      schema.$ref ? doc.components.schemas[schema.$ref.split('/').at(-1)!]! : schema;
    operations = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const body = op.requestBody as { content: { 'application/json': { schema: JsonSchema } } } | undefined;
        if (!body) continue;
        operations.push({
          method: method.toUpperCase() as Operation['method'],
          // Path parameters get a syntactically valid placeholder.
          url: path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000'),
          auth: (op.security?.length ?? 0) > 0,
          schema: resolve(body.content['application/json'].schema),
        });
      }
    }
  });
  afterAll(() => t.close());

  /** Everything these routes could touch, as plain data. */
  async function snapshot() {
    const db = t.db.database.db;
    return {
      users: await db.selectFrom('users').selectAll().orderBy('id').execute(),
      sessions: await db.selectFrom('sessions').selectAll().orderBy('id').execute(),
      refresh: await db.selectFrom('refresh_tokens').selectAll().orderBy('token_hash').execute(),
      invites: await db.selectFrom('registration_invites').selectAll().orderBy('code').execute(),
      audit: (await db.selectFrom('audit_log').select('id').execute()).length,
      backupCodes: await db.selectFrom('backup_codes').selectAll().orderBy('code_hash').execute(),
      settings: await db.selectFrom('instance_settings').selectAll().orderBy('key').execute(),
    };
  }

  function send(op: Operation, payload: string, contentType = 'application/json'): Promise<LightMyRequestResponse> {
    return app.inject({
      method: op.method,
      url: op.url,
      headers: { 'content-type': contentType, ...(op.auth ? owner.auth : {}) },
      payload,
    });
  }

  it('documents the account routes that take a body', () => {
    const names = operations.map((op) => `${op.method} ${op.url}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /api/auth/register',
        'POST /api/auth/login',
        'POST /api/auth/refresh',
        'POST /api/auth/recover',
        'PUT /api/account/password',
        'PATCH /api/account/profile',
        'PUT /api/account/preferences',
        'DELETE /api/account',
        'POST /api/admin/invites',
      ]),
    );
  });

  it('answers every wrongly shaped body with validation_error and changes nothing', async () => {
    const before = await snapshot();
    const failures: string[] = [];
    let sent = 0;
    for (const op of operations) {
      for (const bad of badBodies(op.schema)) {
        sent++;
        const res = await send(op, bad.payload);
        const where = `${op.method} ${op.url} with ${bad.label}`;
        if (res.statusCode !== 400 || res.json().error?.code !== 'validation_error') {
          failures.push(`${where}: ${res.statusCode} ${res.body.slice(0, 200)}`);
          continue;
        }
        const details = res.json().error.details as { path: string }[];
        if (bad.path && !details.some((d) => d.path === bad.path || d.path.startsWith(`${bad.path}.`))) {
          failures.push(`${where}: no issue for ${bad.path} in ${JSON.stringify(details)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // Guard against a vacuous pass (an empty or unreadable OpenAPI document).
    expect(sent).toBeGreaterThan(150);
    expect(await snapshot()).toEqual(before);
  });

  it('validates path parameters and the query string too', async () => {
    const before = await snapshot();
    const longId = await app.inject({
      method: 'DELETE',
      url: `/api/account/sessions/${'a'.repeat(65)}`,
      headers: owner.auth,
    });
    expect([longId.statusCode, longId.json().error.code]).toEqual([400, 'validation_error']);
    for (const qs of ['limit=abc', 'limit=-1', `action=${'a'.repeat(65)}`, 'to=1.5']) {
      const res = await app.inject({ method: 'GET', url: `/api/admin/audit-log?${qs}`, headers: owner.auth });
      expect([res.statusCode, res.json().error.code], qs).toEqual([400, 'validation_error']);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('answers unparsable JSON with invalid_json and changes nothing', async () => {
    const before = await snapshot();
    for (const op of operations) {
      for (const payload of ['{"username":', '{unquoted: 1}', "{'single': 'quotes'}", '']) {
        const res = await send(op, payload);
        expect([res.statusCode, res.json().error.code], `${op.method} ${op.url} with ${json(payload)}`).toEqual([
          400,
          'invalid_json',
        ]);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses other content types and bodies over the limit, changing nothing', async () => {
    const before = await snapshot();
    const huge = json({ blob: 'x'.repeat(1024 * 1024 + 10) });
    for (const op of operations) {
      const text = await send(op, 'username=a&password=b', 'application/x-www-form-urlencoded');
      expect([text.statusCode, text.json().error.code], `${op.method} ${op.url}`).toEqual([
        415,
        'unsupported_media_type',
      ]);
      const big = await send(op, huge);
      expect([big.statusCode, big.json().error.code], `${op.method} ${op.url}`).toEqual([413, 'payload_too_large']);
    }
    expect(await snapshot()).toEqual(before);
  });
});

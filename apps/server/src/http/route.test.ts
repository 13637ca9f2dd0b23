import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { installErrorHandling } from '../errors.js';
import { ApiDocs } from './api-docs.js';
import { addRoute } from './route.js';

const Echo = z.object({ name: z.string().min(1).max(5), count: z.number().int().min(0) });
const EchoReply = z.object({ name: z.string(), count: z.number() }).meta({ id: 'TestEchoReply' });

describe('addRoute', () => {
  let app: FastifyInstance;
  const docs = new ApiDocs();

  beforeAll(async () => {
    app = Fastify({ bodyLimit: 1024 });
    installErrorHandling(app);
    const ctx = { app, docs };
    addRoute(
      ctx,
      {
        method: 'POST',
        url: '/api/echo/:id',
        summary: 'Echo',
        tags: ['test'],
        body: Echo,
        params: z.object({ id: z.string().regex(/^\d+$/) }),
        response: EchoReply,
        status: 201,
      },
      // Returns an extra field that the response schema must drop.
      async ({ body }) => ({ ...body, secret: 'never sent' }) as z.input<typeof EchoReply>,
    );
    addRoute(ctx, { method: 'GET', url: '/api/boom', summary: 'Bug', tags: ['test'] }, async () => {
      throw new Error('database password is hunter2');
    });
    await app.ready();
  });
  afterAll(() => app.close());

  it('validates input, answers with the declared status, and drops fields the contract does not list', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/echo/7', payload: { name: 'ann', count: 2 } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ name: 'ann', count: 2 });
  });

  it('names every invalid field in a validation_error', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/echo/x', payload: { name: 'toolongname', count: -1 } });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('validation_error');
    const body2 = (
      await app.inject({ method: 'POST', url: '/api/echo/1', payload: { name: 'toolongname', count: -1 } })
    ).json();
    expect(body2.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['count', 'name']);
  });

  it('maps malformed JSON, oversized bodies and wrong content types to stable codes', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/api/echo/1',
      payload: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'invalid_json']);
    const big = await app.inject({ method: 'POST', url: '/api/echo/1', payload: { name: 'x'.repeat(4096), count: 1 } });
    expect([big.statusCode, big.json().error.code]).toEqual([413, 'payload_too_large']);
    const xml = await app.inject({
      method: 'POST',
      url: '/api/echo/1',
      payload: '<a/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect([xml.statusCode, xml.json().error.code]).toEqual([415, 'unsupported_media_type']);
  });

  it('hides the details of unexpected errors behind internal_error', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'internal_error', message: 'Something went wrong on the server' } });
    expect(res.body).not.toContain('hunter2');
  });

  it('documents the route with its body, path parameter and response', () => {
    const doc = docs.document({ version: '1' }) as {
      paths: Record<
        string,
        Record<
          string,
          { parameters: { name: string; in: string }[]; requestBody: unknown; responses: Record<string, unknown> }
        >
      >;
    };
    const op = doc.paths['/api/echo/{id}']!.post!;
    expect(op.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(op.requestBody).toMatchObject({ content: { 'application/json': { schema: { type: 'object' } } } });
    expect(op.responses['201']).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/TestEchoReply' } } },
    });
  });
});

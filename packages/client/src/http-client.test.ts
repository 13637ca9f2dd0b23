import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError, HttpClient } from './index.js';

/** A real HTTP server on an ephemeral port that answers fixed responses per path. */
interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

const answers: Record<string, Answer> = {
  '/api/health': {
    status: 200,
    body: JSON.stringify({ status: 'ok', version: '1.2.3', uptime_secs: 5, db: 'ok', broker: 'ok' }),
  },
  '/api/limited': {
    status: 429,
    body: JSON.stringify({ error: { code: 'rate_limited', message: 'Too many requests' } }),
    headers: { 'retry-after': '7' },
  },
  '/api/invalid': {
    status: 400,
    body: JSON.stringify({
      error: { code: 'validation_error', message: 'Invalid body', details: [{ path: 'name', message: 'Too long' }] },
    }),
  },
  '/api/proxy-error': { status: 502, body: '<html>Bad gateway</html>' },
  '/api/wrong-shape': { status: 200, body: JSON.stringify({ id: 'not-a-number' }) },
};

const HEALTH_DOWN: Answer = {
  status: 503,
  body: JSON.stringify({ status: 'degraded', version: '1', uptime_secs: 1, db: 'down', broker: 'ok' }),
};

describe('HttpClient', () => {
  let server: Server;
  let databaseDown = false;
  let baseUrl: string;
  const seen: { path: string; auth: string | undefined; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', auth: req.headers.authorization, body });
        const answer = (req.url === '/api/health' && databaseDown ? HEALTH_DOWN : answers[req.url ?? '']) ?? {
          status: 404,
          body: '{}',
        };
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('returns validated health, including the body of a 503', async () => {
    const client = new HttpClient({ baseUrl });
    expect(await client.health()).toEqual({ status: 'ok', version: '1.2.3', uptime_secs: 5, db: 'ok', broker: 'ok' });
    databaseDown = true;
    try {
      expect(await client.health()).toMatchObject({ status: 'degraded', db: 'down' });
      await expect(client.request('/api/health')).rejects.toBeInstanceOf(ApiError);
    } finally {
      databaseDown = false;
    }
  });

  it('sends the bearer token and JSON body', async () => {
    const client = new HttpClient({ baseUrl, getAccessToken: () => 'tok' });
    await client.request('/api/health', { method: 'POST', body: { a: 1 } });
    expect(seen.at(-1)).toEqual({ path: '/api/health', auth: 'Bearer tok', body: '{"a":1}' });
  });

  it('turns the error envelope into an ApiError with code, details and Retry-After', async () => {
    const client = new HttpClient({ baseUrl });
    const limited = (await client.request('/api/limited').catch((e: unknown) => e)) as ApiError;
    expect([limited.code, limited.status, limited.retryAfterSecs]).toEqual(['rate_limited', 429, 7]);
    const invalid = (await client.request('/api/invalid').catch((e: unknown) => e)) as ApiError;
    expect(invalid.code).toBe('validation_error');
    expect(invalid.details).toEqual([{ path: 'name', message: 'Too long' }]);
  });

  it('reports answers that break the contract as bad_response', async () => {
    const client = new HttpClient({ baseUrl });
    const proxy = (await client.request('/api/proxy-error').catch((e: unknown) => e)) as ApiError;
    expect([proxy.code, proxy.status]).toEqual(['bad_response', 502]);
    const shape = (await client
      .request('/api/wrong-shape', { response: z.object({ id: z.number() }) })
      .catch((e: unknown) => e)) as ApiError;
    expect(shape.code).toBe('bad_response');
  });

  it('reports an unreachable server as network_error', async () => {
    const client = new HttpClient({ baseUrl: 'http://127.0.0.1:1' });
    const err = (await client.health().catch((e: unknown) => e)) as ApiError;
    expect([err.code, err.status]).toEqual(['network_error', 0]);
  });
});

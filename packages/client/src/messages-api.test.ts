import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, HttpClient, MessagesApi } from './index.js';

const message = (seq: number) => ({
  id: `m${seq}`,
  channel_id: 'c 1',
  seq,
  sender_id: 'u1',
  nonce: `nonce-${seq}`,
  ciphertext: 'AAAA',
  encryption: { scheme: 'sender_key' },
  reply_to: null,
  thread_root: null,
  forwarded_from: null,
  mentions: [],
  mention_everyone: false,
  created_at: seq,
  edited_at: null,
  deleted_at: null,
  expires_at: null,
  reactions: [],
  pinned: false,
});

describe('MessagesApi', () => {
  let server: Server;
  let baseUrl: string;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://x');
      res.setHeader('content-type', 'application/json');
      if (url.pathname === '/api/channels/c%201/messages') {
        const after = Number(url.searchParams.get('after') ?? 0);
        res.end(JSON.stringify({ messages: [message(after + 1), message(after + 2)], has_more: false }));
      } else if (url.pathname === '/api/channels/c%201/pins') {
        res.end(JSON.stringify({ messages: [{ ...message(3), pinned: true, pinned_by: 'u2', pinned_at: 99 }] }));
      } else if (url.pathname === '/api/channels/c%201/read-positions') {
        res.end(JSON.stringify({ positions: [{ user_id: 'u2', read_seq: 7 }] }));
      } else if (url.pathname === '/api/channels/broken/read-positions') {
        res.end(JSON.stringify({ positions: [{ user_id: 'u2', read_seq: -1 }] }));
      } else if (url.pathname === '/api/channels/broken/messages') {
        res.end(JSON.stringify({ messages: [{ seq: 'x' }], has_more: false }));
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { code: 'not_found', message: 'No such channel' } }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads a page with the query it was given, validated against the protocol', async () => {
    const api = new MessagesApi(new HttpClient({ baseUrl }));
    const page = await api.history('c 1', { after: 10, limit: 2 });
    expect(seen.at(-1)).toBe('/api/channels/c%201/messages?after=10&limit=2');
    expect(page.messages.map((m) => m.seq)).toEqual([11, 12]);
    expect(page.has_more).toBe(false);
  });

  it('after(): up to 100 after a seq, as the gateway client’s fetchHistory', async () => {
    const api = new MessagesApi(new HttpClient({ baseUrl }));
    expect((await api.after('c 1', 40)).map((m) => m.seq)).toEqual([41, 42]);
    expect(seen.at(-1)).toBe('/api/channels/c%201/messages?after=40&limit=100');
  });

  it('fails with the server’s code, and with bad_response for a page of the wrong shape', async () => {
    const api = new MessagesApi(new HttpClient({ baseUrl }));
    await expect(api.after('gone', 0)).rejects.toMatchObject({ code: 'not_found', status: 404 });
    const err = (await api.after('broken', 0).catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('bad_response');
  });

  it('reads a channel’s pins with who pinned each, and others’ read positions', async () => {
    const api = new MessagesApi(new HttpClient({ baseUrl }));
    const [pin] = await api.pins('c 1');
    expect(seen.at(-1)).toBe('/api/channels/c%201/pins');
    expect(pin).toMatchObject({ id: 'm3', pinned: true, pinned_by: 'u2', pinned_at: 99 });
    expect(await api.readPositions('c 1')).toEqual([{ user_id: 'u2', read_seq: 7 }]);
    expect(seen.at(-1)).toBe('/api/channels/c%201/read-positions');
    const err = (await api.readPositions('broken').catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('bad_response');
    await expect(api.readPositions('gone')).rejects.toMatchObject({ code: 'not_found', status: 404 });
  });
});

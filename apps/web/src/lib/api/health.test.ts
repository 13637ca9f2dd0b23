import { describe, expect, it, vi } from 'vitest';
import { checkHealth, formatUptime, HEALTH_PATH, isHealth, type Health } from './health';

const healthy: Health = { status: 'ok', version: '0.1.0', uptime_secs: 42, db: 'ok', broker: 'ok' };

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function fetchReturning(response: Response | Error) {
  return vi.fn<typeof fetch>(async () => {
    if (response instanceof Error) throw response;
    return response;
  });
}

describe('isHealth', () => {
  it('accepts a health body, with or without extra fields', () => {
    expect(isHealth(healthy)).toBe(true);
    expect(isHealth({ ...healthy, status: 'degraded', db: 'down', region: 'eu' })).toBe(true);
  });

  it.each([
    ['null', null],
    ['an array', [healthy]],
    ['a string', 'ok'],
    ['an unknown status', { ...healthy, status: 'fine' }],
    ['a missing version', { ...healthy, version: undefined }],
    ['an empty version', { ...healthy, version: '' }],
    ['a numeric version', { ...healthy, version: 1 }],
    ['a string uptime', { ...healthy, uptime_secs: '42' }],
    ['a negative uptime', { ...healthy, uptime_secs: -1 }],
    ['an infinite uptime', { ...healthy, uptime_secs: Infinity }],
    ['an unknown db state', { ...healthy, db: 'slow' }],
    ['a missing broker', { ...healthy, broker: undefined }],
  ])('rejects %s', (_name, value) => {
    expect(isHealth(value)).toBe(false);
  });
});

describe('checkHealth', () => {
  it('reports a healthy instance as running', async () => {
    const fetch = fetchReturning(json(healthy));
    await expect(checkHealth({ fetch })).resolves.toEqual({ state: 'running', health: healthy });
    expect(fetch).toHaveBeenCalledWith(HEALTH_PATH, expect.objectContaining({ cache: 'no-store' }));
  });

  it('reports a 503 with a health body as degraded, keeping the details', async () => {
    const body: Health = { ...healthy, status: 'degraded', db: 'down' };
    const result = await checkHealth({ fetch: fetchReturning(json(body, 503)) });
    expect(result).toEqual({ state: 'degraded', health: body });
  });

  it('treats "ok" on an error status as degraded', async () => {
    const result = await checkHealth({ fetch: fetchReturning(json(healthy, 503)) });
    expect(result.state).toBe('degraded');
  });

  it('reports a network failure as unreachable', async () => {
    const result = await checkHealth({ fetch: fetchReturning(new TypeError('Failed to fetch')) });
    expect(result).toEqual({ state: 'unreachable', reason: 'The server could not be reached.' });
  });

  it('reports a non-JSON answer as unreachable, with the HTTP status', async () => {
    const html = new Response('<!doctype html><p>Bad gateway</p>', { status: 502 });
    const result = await checkHealth({ fetch: fetchReturning(html) });
    expect(result).toEqual({ state: 'unreachable', reason: 'The server gave an unexpected answer (HTTP 502).' });
  });

  it('reports JSON of the wrong shape as unreachable', async () => {
    const result = await checkHealth({ fetch: fetchReturning(json({ error: { code: 'not_found' } }, 404)) });
    expect(result.state).toBe('unreachable');
  });

  it('gives up after the timeout', async () => {
    const hanging = vi.fn<typeof fetch>(
      (_input, init) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    );
    const result = await checkHealth({ fetch: hanging, timeoutMs: 10 });
    expect(result).toEqual({ state: 'unreachable', reason: 'The server did not answer in time.' });
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const hanging = vi.fn<typeof fetch>(
      (_input, init) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    );
    const pending = checkHealth({ fetch: hanging, signal: controller.signal, timeoutMs: 5_000 });
    controller.abort();
    await expect(pending).resolves.toEqual({ state: 'unreachable', reason: 'The check was cancelled.' });
  });
});

describe('formatUptime', () => {
  it.each([
    [0, '0 seconds'],
    [1, '1 second'],
    [59.9, '59 seconds'],
    [60, '1 minute'],
    [125, '2 minutes'],
    [3600, '1 hour'],
    [3600 + 60, '1 hour 1 minute'],
    [5 * 3600 + 12 * 60, '5 hours 12 minutes'],
    [86_400, '1 day'],
    [4 * 86_400 + 2 * 3600 + 59, '4 days 2 hours'],
    [-5, '0 seconds'],
  ])('formats %s s as "%s"', (seconds, text) => {
    expect(formatUptime(seconds)).toBe(text);
  });
});

import { describe, expect, it } from 'vitest';
import { fromBase64, fromBase64Url, toBase64, toBase64Url, utf8 } from './bytes.js';
import { decodeContent, encodeContent } from './content.js';
import { isE2EError } from './errors.js';
import { decodePairwiseBody, encodePairwiseBody } from './pairwise-body.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isE2EError(e) ? e.code : String(e);
  }
  return undefined;
}

describe('base64', () => {
  it('round-trips every length, padded and url-safe', () => {
    for (let n = 0; n < 40; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      expect(fromBase64(toBase64(b))).toEqual(b);
      expect(fromBase64Url(toBase64Url(b))).toEqual(b);
      expect(toBase64(b)).toBe(Buffer.from(b).toString('base64'));
      expect(toBase64Url(b)).toBe(Buffer.from(b).toString('base64url'));
    }
  });

  it('refuses non-canonical input', () => {
    for (const bad of ['QQ', 'QR==', 'Q===', 'QQ=A', 'QUJD?', 'QUJ-', ' QUJD']) {
      expect(code(() => fromBase64(bad))).toBe('invalid_encoding');
    }
    for (const bad of ['QR', 'Q', 'QQ==', 'QU+D']) expect(code(() => fromBase64Url(bad))).toBe('invalid_encoding');
  });
});

describe('content', () => {
  it('round-trips text and optional fields, bound to the channel', () => {
    const content = {
      text: 'hi ✨',
      reply: { message_id: 'm-1', preview: 'earlier' },
      attachments: [{ file_id: 'f1', key: 'A'.repeat(43), name: 'cat.png', type: 'image/png', size: 3 }],
    };
    const bytes = encodeContent('c1', content);
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual({ v: 1, channel_id: 'c1', ...content });
    expect(decodeContent('c1', bytes)).toEqual(content);
    expect(code(() => decodeContent('c2', bytes))).toBe('invalid_format');
  });

  it('refuses other versions, wrong shapes and non-JSON', () => {
    const enc = (o: unknown) => utf8(JSON.stringify(o));
    expect(code(() => decodeContent('c', enc({ v: 2, channel_id: 'c', text: 'x' })))).toBe('unsupported_version');
    expect(code(() => decodeContent('c', enc({ v: 1, channel_id: 'c', text: 5 })))).toBe('invalid_format');
    expect(code(() => decodeContent('c', utf8('{')))).toBe('invalid_format');
    expect(code(() => decodeContent('c', Uint8Array.of(0xff)))).toBe('invalid_format');
    // Unknown fields are ignored.
    expect(decodeContent('c', enc({ v: 1, channel_id: 'c', text: 'x', future: true }))).toEqual({ text: 'x' });
  });

  it('carries the action flag of "/me", which content without it (or from older clients) lacks', () => {
    const enc = (o: unknown) => utf8(JSON.stringify(o));
    const bytes = encodeContent('c', { text: 'waves', action: true });
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual({ v: 1, channel_id: 'c', text: 'waves', action: true });
    expect(decodeContent('c', bytes)).toEqual({ text: 'waves', action: true });
    // A plain message says nothing about actions, so it reads the same to an older client.
    expect(JSON.parse(new TextDecoder().decode(encodeContent('c', { text: 'hi' })))).not.toHaveProperty('action');
    expect(decodeContent('c', enc({ v: 1, channel_id: 'c', text: 'hi' }))).toEqual({ text: 'hi' });
    expect(decodeContent('c', enc({ v: 1, channel_id: 'c', text: 'hi', action: false }))).toEqual({ text: 'hi' });
    expect(code(() => decodeContent('c', enc({ v: 1, channel_id: 'c', text: 'hi', action: 'yes' })))).toBe(
      'invalid_format',
    );
  });
});

describe('pairwise body', () => {
  const entries = [
    { address: { userId: 'alice', deviceId: 1 }, ciphertext: Uint8Array.of(1, 2, 3) },
    { address: { userId: 'bób', deviceId: 0xfffffffe }, ciphertext: new Uint8Array(300).fill(7) },
  ];

  it('round-trips, with the documented layout', () => {
    const body = encodePairwiseBody(entries);
    expect([...body.subarray(0, 4)]).toEqual([1, 0, 2, 5]); // version, count u16, length of "alice"
    expect(decodePairwiseBody(body)).toEqual(entries);
  });

  it('refuses truncation, trailing bytes, other versions and empty bodies', () => {
    const body = encodePairwiseBody(entries);
    expect(code(() => decodePairwiseBody(body.subarray(0, body.length - 1)))).toBe('invalid_format');
    expect(code(() => decodePairwiseBody(Uint8Array.of(...body, 0)))).toBe('invalid_format');
    expect(code(() => decodePairwiseBody(Uint8Array.of(2, ...body.subarray(1))))).toBe('unsupported_version');
    expect(code(() => decodePairwiseBody(Uint8Array.of(1, 0, 0)))).toBe('invalid_format');
    expect(code(() => encodePairwiseBody([]))).toBe('invalid_format');
  });
});

describe('retryRateLimited', () => {
  it('waits out a short Retry-After, and gives up on long ones', async () => {
    const { ApiError } = await import('../api-error.js');
    const { retryRateLimited } = await import('./api.js');
    const waits: number[] = [];
    let calls = 0;
    const flaky = {
      authed: async <T>(): Promise<T> => {
        calls++;
        if (calls < 3) throw new ApiError('rate_limited', 'slow down', 429, [], 1);
        return 'ok' as T;
      },
    };
    const client = retryRateLimited(flaky, { sleep: async (ms) => void waits.push(ms) });
    expect(await client.authed('/x')).toBe('ok');
    expect(waits).toEqual([1000, 1000]);

    const long = retryRateLimited(
      { authed: async () => Promise.reject(new ApiError('rate_limited', 'later', 429, [], 300)) },
      { sleep: async (ms) => void waits.push(ms) },
    );
    await expect(long.authed('/x')).rejects.toMatchObject({ code: 'rate_limited' });
    expect(waits).toHaveLength(2);
  });
});

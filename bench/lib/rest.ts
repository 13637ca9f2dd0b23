// JSON over REST to a Chatalot server, as the benchmark's users and their owner.

export class Rest {
  constructor(readonly baseUrl: string) {}

  /** JSON request; `from` sets X-Forwarded-For (loopback is a trusted proxy by default), so
   * the per-IP rate limits see one client per benchmark user, as in real life. */
  async call<T>(method: string, url: string, options: { token?: string; body?: unknown; from?: string } = {}) {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.from) headers['x-forwarded-for'] = options.from;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.baseUrl + url, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }
}

/** A made-up client address (10.x.y.z) for X-Forwarded-For. */
export const fakeIp = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

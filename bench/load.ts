import { Agent, request } from 'node:http';

export interface LoadResult {
  requests: number;
  errors: number;
  /** Non-200 answers by status code ("network" for a failed request). */
  errorCodes: Record<string, number>;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadOptions {
  clients?: number;
  method?: 'GET' | 'POST';
  /** Sent with every request (e.g. authorization). */
  headers?: Record<string, string>;
  /** The body of the n-th request (JSON). */
  body?: (n: number) => string;
}

/**
 * Closed-loop HTTP load: `concurrency` keep-alive connections each send the next request as
 * soon as the previous answer arrives, for `seconds`. Latency percentiles over all requests.
 * With `clients`, each request carries `X-Forwarded-For` from a pool of that many addresses
 * (the server trusts loopback as a proxy by default), so per-IP rate limits see many clients
 * each within their allowance, as in production, instead of one client being throttled.
 * `url` may be a function of the request's number (e.g. a different history page each time).
 */
export async function runLoad(
  url: string | ((n: number) => string),
  concurrency: number,
  seconds: number,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const errorCodes: Record<string, number> = {};
  const fail = (code: string) => {
    errors++;
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
  };
  const started = performance.now();
  const deadline = started + seconds * 1000;

  let sent = 0;
  const headers = (n: number, body: string | undefined) => {
    const h: Record<string, string> = { ...options.headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (!options.clients) return h;
    const c = n % options.clients;
    return { ...h, 'x-forwarded-for': `10.99.${c >> 8}.${c & 255}` };
  };
  const once = () =>
    new Promise<void>((resolve) => {
      const n = sent++;
      const body = options.body?.(n);
      const target = typeof url === 'string' ? url : url(n);
      const t0 = performance.now();
      const req = request(target, { agent, method: options.method ?? 'GET', headers: headers(n, body) }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - t0);
          else fail(String(res.statusCode));
          resolve();
        });
      });
      req.on('error', () => {
        fail('network');
        resolve();
      });
      req.end(body);
    });

  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) await once();
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return {
    requests: latencies.length,
    errors,
    errorCodes,
    seconds: elapsed,
    perSecond: latencies.length / elapsed,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
  };
}

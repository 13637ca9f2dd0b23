import { KeepAliveClient } from './lib/keep-alive-client.js';

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
  /**
   * Seconds of load on the same connections before measuring (not counted): a fresh
   * connection's first responses are slower (TCP buffers growing, server state per socket).
   */
  warmupSeconds?: number;
  /** Called when measuring starts (after the warm-up), e.g. to read the server's CPU time then. */
  onMeasuring?: () => void;
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
 * With `warmupSeconds`, the same connections carry load that long before measuring starts.
 * Connections are KeepAliveClients (see there for why not node:http); one that fails counts
 * a "network" error and is replaced.
 */
export async function runLoad(
  url: string | ((n: number) => string),
  concurrency: number,
  seconds: number,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const urlOf = typeof url === 'string' ? () => url : url;
  const { origin, hostname, port } = new URL(urlOf(0));
  const open = () => new KeepAliveClient(hostname, Number(port));
  const latencies: number[] = [];
  let errors = 0;
  const errorCodes: Record<string, number> = {};
  const fail = (code: string) => {
    errors++;
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
  };

  let sent = 0;
  const headers = (n: number, body: string | undefined) => {
    const h: Record<string, string> = { ...options.headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (!options.clients) return h;
    const c = n % options.clients;
    return { ...h, 'x-forwarded-for': `10.99.${c >> 8}.${c & 255}` };
  };
  const clients = Array.from({ length: concurrency }, open);
  /** Keeps connection `i` busy until `until`; answers count only when `measured`. */
  const lane = async (i: number, until: number, measured: boolean) => {
    while (performance.now() < until) {
      const n = sent++;
      const body = options.body?.(n);
      try {
        const res = await clients[i]!.request(
          options.method ?? 'GET',
          urlOf(n).slice(origin.length),
          headers(n, body),
          body,
        );
        if (!measured) continue;
        if (res.status === 200) latencies.push(res.ms);
        else fail(String(res.status));
      } catch {
        if (measured) fail('network');
        clients[i]!.close();
        clients[i] = open();
      }
    }
  };
  const phase = (seconds: number, measured: boolean) => {
    const until = performance.now() + seconds * 1000;
    return Promise.all(clients.map((_, i) => lane(i, until, measured)));
  };

  let started: number;
  try {
    await phase(options.warmupSeconds ?? 0, false);
    options.onMeasuring?.();
    started = performance.now();
    await phase(seconds, true);
  } finally {
    for (const client of clients) client.close();
  }
  const elapsed = (performance.now() - started) / 1000;
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

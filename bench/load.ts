import { Agent, request } from 'node:http';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Closed-loop HTTP load: `concurrency` keep-alive connections each send the next request as
 * soon as the previous answer arrives, for `seconds`. Latency percentiles over all requests.
 * With `clients`, each request carries `X-Forwarded-For` from a pool of that many addresses
 * (the server trusts loopback as a proxy by default), so per-IP rate limits see many clients
 * each within their allowance, as in production, instead of one client being throttled.
 */
export async function runLoad(
  url: string,
  concurrency: number,
  seconds: number,
  options: { clients?: number } = {},
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;

  let sent = 0;
  const headers = () => {
    if (!options.clients) return {};
    const n = sent++ % options.clients;
    return { 'x-forwarded-for': `10.99.${n >> 8}.${n & 255}` };
  };
  const once = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = request(url, { agent, headers: headers() }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - t0);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
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
    seconds: elapsed,
    perSecond: latencies.length / elapsed,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
  };
}

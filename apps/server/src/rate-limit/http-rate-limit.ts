import type { FastifyInstance, FastifyRequest } from 'fastify';
import { rateLimited } from '../errors.js';
import { clientKey } from './client-key.js';
import type { BucketSpec, CounterStore } from './counter-store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Which per-IP token bucket the route draws from: the general one unless `'auth'`
     * (login, register, recovery, token refresh...); `'none'` exempts the route.
     */
    rateLimit?: 'auth' | 'none';
  }
}

/** Per-client-IP buckets (PRODUCT.md §2, §12). */
export const HTTP_RATE_LIMITS = {
  general: { capacity: 50, refillPerSec: 20 },
  auth: { capacity: 10, refillPerSec: 5 },
} as const satisfies Record<string, BucketSpec>;

export interface RateLimitOptions {
  store: CounterStore;
  /** Clock in ms; Date.now unless given (tests inject their own). */
  now?: () => number;
  /** Override the buckets (tests, benchmarks). */
  limits?: { general?: BucketSpec; auth?: BucketSpec };
  /**
   * When the store fails (Redis down): let the request through and log an error (true, the
   * default: the limiter must not take the whole API down), or fail it as a 500 (false).
   */
  failOpen?: boolean;
}

/**
 * Applies per-client-IP token buckets to every `/api` request, before its body is read:
 * the auth bucket on routes whose config says `rateLimit: 'auth'`, none on `'none'`, the
 * general bucket otherwise (also for unknown `/api` URLs, so probing for routes is limited
 * too). The client is `request.ip`, so Fastify's `trustProxy` decides whose
 * X-Forwarded-For counts; IPv6 clients are grouped per /64. A refusal is `rate_limited` (429)
 * with Retry-After.
 *
 * Call it on the root instance, before the routes are registered.
 */
export function registerRateLimits(app: FastifyInstance, options: RateLimitOptions): void {
  const { store } = options;
  const now = options.now ?? Date.now;
  const general = options.limits?.general ?? HTTP_RATE_LIMITS.general;
  const auth = options.limits?.auth ?? HTTP_RATE_LIMITS.auth;
  const failOpen = options.failOpen ?? true;

  app.addHook('onRequest', async (request) => {
    if (!isApiRequest(request)) return;
    const mode = request.routeOptions.config?.rateLimit;
    if (mode === 'none') return;
    const [kind, spec] = mode === 'auth' ? ['auth', auth] : ['gen', general];
    let result;
    try {
      result = await store.takeToken(`http:${kind}:${clientKey(request.ip)}`, spec, now());
    } catch (err) {
      if (!failOpen) throw err;
      request.log.error({ err }, 'rate limit store failed; request let through');
      return;
    }
    if (!result.allowed) throw rateLimited(result.retryAfterSecs);
  });
}

/** By the matched route and by the raw path (a catch-all route or a 404 must not escape). */
function isApiRequest(request: FastifyRequest): boolean {
  if (isApiPath(request.routeOptions.url)) return true;
  const raw = request.url;
  const q = raw.indexOf('?');
  return isApiPath((q === -1 ? raw : raw.slice(0, q)).toLowerCase());
}

function isApiPath(path: string | undefined): boolean {
  return path !== undefined && (path === '/api' || path.startsWith('/api/'));
}

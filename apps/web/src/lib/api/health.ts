/**
 * `GET /api/health`: what the instance reports about itself. The shape mirrors
 * `HealthResponse` in @chatalot/protocol; the guard below checks it by hand so the web app
 * does not ship zod for one small body (the client SDK will own API types later).
 */

/** Health of one dependency of the server. */
export type DependencyHealth = 'ok' | 'down';

/** The body of `GET /api/health` (HTTP 200 when healthy, 503 when a dependency is down). */
export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  uptime_secs: number;
  db: DependencyHealth;
  broker: DependencyHealth;
}

/** What the web app makes of a health check. */
export type HealthCheck =
  | { state: 'running'; health: Health }
  | { state: 'degraded'; health: Health }
  | { state: 'unreachable'; reason: string };

export const HEALTH_PATH = '/api/health';
const DEFAULT_TIMEOUT_MS = 8_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isDependencyHealth(value: unknown): value is DependencyHealth {
  return value === 'ok' || value === 'down';
}

/** True when `value` has the shape of a health body (extra fields are allowed). */
export function isHealth(value: unknown): value is Health {
  if (!isRecord(value)) return false;
  return (
    (value.status === 'ok' || value.status === 'degraded') &&
    typeof value.version === 'string' &&
    value.version.length > 0 &&
    typeof value.uptime_secs === 'number' &&
    Number.isFinite(value.uptime_secs) &&
    value.uptime_secs >= 0 &&
    isDependencyHealth(value.db) &&
    isDependencyHealth(value.broker)
  );
}

export interface CheckHealthOptions {
  /** The fetch to use (tests pass their own); defaults to the global one. */
  fetch?: typeof fetch;
  /** Aborts the request, e.g. when the page that asked goes away. */
  signal?: AbortSignal;
  /** Gives up after this long and reports the instance unreachable. */
  timeoutMs?: number;
}

/**
 * Asks the instance how it is. Never throws: network failures, timeouts and answers that are
 * not a health body (an HTML page from a proxy, a 502, …) all come back as `unreachable` with a
 * short reason fit to show. A health body with `status: "degraded"` (HTTP 503 when the database
 * is down) is `degraded`, whatever the HTTP status.
 */
export async function checkHealth(options: CheckHealthOptions = {}): Promise<HealthCheck> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;

  let response: Response;
  try {
    response = await doFetch(HEALTH_PATH, { headers: { accept: 'application/json' }, cache: 'no-store', signal });
  } catch {
    if (timeout.aborted) return { state: 'unreachable', reason: 'The server did not answer in time.' };
    if (options.signal?.aborted) return { state: 'unreachable', reason: 'The check was cancelled.' };
    return { state: 'unreachable', reason: 'The server could not be reached.' };
  }

  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!isHealth(body)) {
    return { state: 'unreachable', reason: `The server gave an unexpected answer (HTTP ${response.status}).` };
  }
  if (body.status === 'ok' && response.ok) return { state: 'running', health: body };
  return { state: 'degraded', health: { ...body, status: 'degraded' } };
}

/** "42 seconds", "5 minutes", "3 hours 12 minutes", "4 days 2 hours": how long it has been up. */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (s < 60) return plural(s, 'second');
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    return rest === 0 ? plural(hours, 'hour') : `${plural(hours, 'hour')} ${plural(rest, 'minute')}`;
  }
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest === 0 ? plural(days, 'day') : `${plural(days, 'day')} ${plural(rest, 'hour')}`;
}

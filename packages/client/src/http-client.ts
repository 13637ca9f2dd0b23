import { ErrorResponse, HealthResponse } from '@chatalot/protocol';
import type { z } from 'zod';
import { ApiError } from './api-error.js';

export interface HttpClientOptions {
  /** Server origin, e.g. `https://chat.example.org`; empty for same-origin (the web app). */
  baseUrl: string;
  /** Supplies the bearer token for authenticated calls. */
  getAccessToken?: () => string | undefined;
  /** Injectable for tests and non-browser runtimes; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface RequestOptions<S extends z.ZodType> {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  /** Schema of the success body; the answer is validated against it. */
  response?: S;
  signal?: AbortSignal;
}

/**
 * Typed REST calls against a Chatalot server. Every answer is checked against the protocol
 * schemas, and every failure becomes an ApiError carrying the server's stable code.
 */
export class HttpClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HttpClientOptions) {
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** `GET /api/health`; a 503 still carries a health body, which is returned, not thrown. */
  async health(signal?: AbortSignal): Promise<HealthResponse> {
    const res = await this.send('/api/health', { signal });
    if (res.status === 503) return parseBody(HealthResponse, await readJson(res), res.status);
    return this.finish(res, HealthResponse);
  }

  async request<S extends z.ZodType>(path: string, options: RequestOptions<S> = {}): Promise<z.output<S>> {
    const res = await this.send(path, options);
    return this.finish(res, options.response);
  }

  private async send(path: string, options: { method?: string; body?: unknown; signal?: AbortSignal | undefined }) {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.options.getAccessToken?.();
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.fetchImpl(`${this.options.baseUrl}${path}`, {
        method: options.method ?? 'GET',
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        signal: options.signal ?? null,
      });
    } catch (err) {
      if (err instanceof Error && err.name === 'AbortError') throw err;
      throw new ApiError('network_error', 'The server could not be reached', 0);
    }
  }

  private async finish<S extends z.ZodType>(res: Response, schema: S | undefined): Promise<z.output<S>> {
    if (!res.ok) throw await toApiError(res);
    if (!schema || res.status === 204) return undefined as z.output<S>;
    return parseBody(schema, await readJson(res), res.status);
  }
}

async function readJson(res: Response): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    throw new ApiError('bad_response', 'The server sent a body that is not JSON', res.status);
  }
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown, status: number): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ApiError('bad_response', 'The server answered in an unexpected shape', status);
  return parsed.data;
}

async function toApiError(res: Response): Promise<ApiError> {
  const retryAfter = Number(res.headers.get('retry-after'));
  const body = await res.json().catch(() => undefined);
  const envelope = ErrorResponse.safeParse(body);
  if (!envelope.success) {
    return new ApiError('bad_response', `The server answered ${res.status} without an error envelope`, res.status);
  }
  const { code, message, details } = envelope.data.error;
  return new ApiError(
    code,
    message,
    res.status,
    details ?? [],
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}

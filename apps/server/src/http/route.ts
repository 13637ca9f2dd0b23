import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { z } from 'zod';
import type { Actor } from '../auth/authenticate.js';
import { AppError, validationError } from '../errors.js';
import type { ApiDocs } from './api-docs.js';
import { compileResponseContract } from './response-contract.js';

type Maybe<T extends z.ZodType | undefined> = T extends z.ZodType ? z.output<T> : undefined;

/** A route described once: Fastify serves it, zod validates it, the OpenAPI document lists it. */
export interface RouteSpec<
  B extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  P extends z.ZodType | undefined,
  R extends z.ZodType | undefined,
> {
  method: HTTPMethods;
  url: string;
  summary: string;
  tags: string[];
  body?: B;
  query?: Q;
  params?: P;
  /** Success status; 200 unless given. */
  status?: number;
  response?: R;
  errors?: number[];
  /** Requires a valid access token; the handler then receives `actor`. */
  auth?: boolean;
  /** `auth` applies the stricter per-IP bucket of sign-in routes. */
  rateLimit?: 'auth';
}

export interface RouteInput<B, Q, P> {
  /** The signed-in user; only on routes declared with `auth: true`. */
  actor: Actor;
  body: B;
  query: Q;
  params: P;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** Everything a routes module needs to add routes. */
export interface RouteContext {
  app: FastifyInstance;
  docs: ApiDocs;
  /** Resolves the signed-in user of a request (the one requireAuth). */
  authenticate?: (request: FastifyRequest) => Promise<Actor>;
}

/**
 * Registers a route. Input is parsed with the route's schemas before the handler runs
 * (a failure is a `validation_error` naming each field); the handler's result is brought to
 * the response schema, which drops any field the contract does not list (see response-contract.ts).
 */
export function addRoute<
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  P extends z.ZodType | undefined = undefined,
  R extends z.ZodType | undefined = undefined,
>(
  ctx: RouteContext,
  spec: RouteSpec<B, Q, P, R>,
  handler: (
    input: RouteInput<Maybe<B>, Maybe<Q>, Maybe<P>>,
  ) => Promise<NoInfer<R extends z.ZodType ? z.input<R> : void>>,
): void {
  const status = spec.status ?? (spec.response ? 200 : 204);
  const toContract = spec.response && compileResponseContract(spec.response);
  const authenticate = ctx.authenticate;
  if (spec.auth && !authenticate)
    throw new Error(`${spec.method} ${spec.url} needs auth but the context has no authenticator`);
  ctx.docs.add({ ...spec, status, errors: spec.auth ? [401, ...(spec.errors ?? [])] : spec.errors });
  ctx.app.route({
    method: spec.method,
    url: spec.url,
    config: { ...(spec.rateLimit ? { rateLimit: spec.rateLimit } : {}), auth: spec.auth === true },
    handler: async (request, reply) => {
      const actor = spec.auth ? await authenticate!(request) : undefined;
      const body = parse(spec.body, request.body, 'request body') as Maybe<B>;
      const query = parse(spec.query, request.query, 'query string') as Maybe<Q>;
      const params = parse(spec.params, request.params, 'path parameters') as Maybe<P>;
      reply.status(status);
      const result = await handler({ actor: actor ?? noActor(spec.url), body, query, params, request, reply });
      if (!toContract) return reply.send();
      return toContract(result);
    },
  });
}

/** A stand-in that fails loudly if a public route's handler reads `actor` (a bug). */
function noActor(url: string): Actor {
  return new Proxy({} as Actor, {
    get() {
      throw new AppError('internal_error', `route ${url} read the actor without declaring auth`);
    },
  });
}

function parse(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return undefined;
  // No body at all counts as `{}`; an explicit JSON `null` is a wrong type, not "nothing".
  const result = schema.safeParse(value === undefined ? {} : value);
  if (!result.success) throw validationError(result.error, where);
  return result.data;
}

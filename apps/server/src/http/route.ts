import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { z } from 'zod';
import { validationError } from '../errors.js';
import type { ApiDocs } from './api-docs.js';

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
  auth?: boolean;
}

export interface RouteInput<B, Q, P> {
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
}

/**
 * Registers a route. Input is parsed with the route's schemas before the handler runs
 * (a failure is a `validation_error` naming each field); the handler's result is parsed with
 * the response schema, which drops any field the contract does not list.
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
  ctx.docs.add({ ...spec, status });
  ctx.app.route({
    method: spec.method,
    url: spec.url,
    handler: async (request, reply) => {
      const body = parse(spec.body, request.body, 'request body') as Maybe<B>;
      const query = parse(spec.query, request.query, 'query string') as Maybe<Q>;
      const params = parse(spec.params, request.params, 'path parameters') as Maybe<P>;
      reply.status(status);
      const result = await handler({ body, query, params, request, reply });
      if (!spec.response) return reply.send();
      return spec.response.parse(result);
    },
  });
}

function parse(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw validationError(result.error, where);
  return result.data;
}

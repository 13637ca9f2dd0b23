import { ErrorResponse } from '@chatalot/protocol';
import { z } from 'zod';

/** What the OpenAPI document needs to know about one route. */
export interface RouteDoc {
  method: string;
  /** Fastify-style path (`/api/things/:id`). */
  url: string;
  summary: string;
  tags: string[];
  body?: z.ZodType | undefined;
  query?: z.ZodType | undefined;
  params?: z.ZodType | undefined;
  status: number;
  response?: z.ZodType | undefined;
  /** Extra statuses this route answers with, documented with the error envelope. */
  errors?: number[] | undefined;
  /** Whether the route needs a bearer token. */
  auth?: boolean | undefined;
}

const REF_PREFIX = '#/components/schemas/';

/**
 * Collects route descriptions as routes are registered and renders an OpenAPI 3.1 document
 * from them. Schemas registered with an id (`.meta({ id })`) become shared components.
 */
export class ApiDocs {
  private readonly routes: RouteDoc[] = [];

  add(route: RouteDoc): void {
    this.routes.push(route);
  }

  document(info: { version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of this.routes) {
      const openApiPath = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      paths[openApiPath] ??= {};
      paths[openApiPath][route.method.toLowerCase()] = this.operation(route);
    }
    const { schemas } = z.toJSONSchema(z.globalRegistry, { uri: (id) => `${REF_PREFIX}${id}`, unrepresentable: 'any' });
    return {
      openapi: '3.1.0',
      info: {
        title: 'Chatalot API',
        version: info.version,
        description:
          'REST API of a Chatalot server. Message bodies are end-to-end encrypted ciphertext that the server never reads. Errors use the envelope {"error":{"code","message"}}.',
      },
      servers: [{ url: '/' }],
      paths,
      components: {
        schemas: Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, stripMeta(s)])),
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    };
  }

  private operation(route: RouteDoc): Record<string, unknown> {
    const responses: Record<string, unknown> = {
      [String(route.status)]: route.response
        ? { description: 'Success', content: { 'application/json': { schema: toSchema(route.response) } } }
        : { description: 'Success, no content' },
    };
    for (const status of route.errors ?? []) {
      responses[String(status)] = {
        description: 'Error',
        content: { 'application/json': { schema: toSchema(ErrorResponse) } },
      };
    }
    return {
      summary: route.summary,
      tags: route.tags,
      ...(route.auth ? { security: [{ bearer: [] }] } : {}),
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(route.body) } } } }
        : {}),
      responses,
    };
  }
}

/** A reference for registered schemas, the inline JSON Schema otherwise. */
function toSchema(schema: z.ZodType): Record<string, unknown> {
  const id = z.globalRegistry.get(schema)?.id;
  if (id) return { $ref: `${REF_PREFIX}${id}` };
  return stripMeta(z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>);
}

function parameters(schema: z.ZodType | undefined, location: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    schema: s,
  }));
}

function stripMeta(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

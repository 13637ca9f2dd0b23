import { ERROR_STATUS, type ErrorCode, type ErrorResponse, type ValidationIssue } from '@chatalot/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { ZodError } from 'zod';

/**
 * An error meant for the client: a stable code, a message safe to show, and the HTTP status
 * that goes with the code. Anything thrown that is not an AppError is a bug and is reported
 * as `internal_error` without its details.
 */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ValidationIssue[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }

  toBody(): ErrorResponse {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export const badRequest = (message: string) => new AppError('bad_request', message);
export const unauthorized = (message = 'Sign in first') => new AppError('unauthorized', message);
export const forbidden = (message = 'You are not allowed to do that') => new AppError('forbidden', message);
export const notFound = (message = 'Not found') => new AppError('not_found', message);
export const conflict = (message: string) => new AppError('conflict', message);
export const rateLimited = (retryAfterSecs: number) =>
  new AppError('rate_limited', 'Too many requests; try again later', undefined, {
    'retry-after': String(retryAfterSecs),
  });

/** Turns a zod failure into a `validation_error` that names every offending field. */
export function validationError(error: ZodError, where: string): AppError {
  const details = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  return new AppError('validation_error', `Invalid ${where}`, details);
}

/** Maps Fastify's own errors (body parsing, limits, routing) onto our codes. */
function fromFastifyError(err: FastifyError): AppError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'Request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'Unsupported Content-Type; send application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_json', 'Request body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('bad_request', 'Content-Length does not match the body');
    default:
      break;
  }
  if (err instanceof SyntaxError && err.statusCode === 400)
    return new AppError('invalid_json', 'Request body is not valid JSON');
  if (err.statusCode === 413) return new AppError('payload_too_large', 'Request body is too large');
  if (err.statusCode === 415) return new AppError('unsupported_media_type', 'Unsupported Content-Type');
  if (err.statusCode === 429) return new AppError('rate_limited', 'Too many requests; try again later');
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError('bad_request', 'Malformed request');
  }
  return undefined;
}

/**
 * Input that passed the schemas but that PostgreSQL cannot store or compare, such as a NUL
 * character in an id (22021) or text it cannot read as the column's type (22P02): the
 * client's fault, answered as such rather than as a server error. SQLite accepts both.
 */
export function fromDatabaseError(err: unknown): AppError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === '22021' || code === '22P02')
    return badRequest('The request contains characters or values that cannot be stored');
  return undefined;
}

/** Installs the one error handler and the JSON 404 for unknown routes. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const appError = err instanceof AppError ? err : (fromFastifyError(err) ?? fromDatabaseError(err));
    if (appError) {
      if (appError.headers) void reply.headers(appError.headers);
      return reply.status(appError.status).send(appError.toBody());
    }
    // A real bug: log it with the request id, tell the client nothing about internals.
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send(new AppError('internal_error', 'Something went wrong on the server').toBody());
  });
}

import { z } from 'zod';

/**
 * Stable error codes. They travel in the REST error envelope and in WebSocket `error` frames;
 * clients branch on them, so a code is never renamed or reused for another meaning.
 */
export const ERROR_CODES = [
  'bad_request',
  'validation_error',
  'invalid_json',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'service_unavailable',
  'internal_error',
  // Accounts and sessions
  'invalid_credentials',
  'totp_required',
  'invalid_totp',
  'token_expired',
  'invalid_token',
  'session_revoked',
  'account_suspended',
  'registration_closed',
  'invite_required',
  'invalid_invite',
  'username_taken',
  'email_taken',
  'weak_password',
  // Uploads
  'unsupported_image',
  'image_too_large',
  // Communities
  'banned',
  'limit_reached',
  // DMs
  'blocked',
  // Messaging and the WebSocket gateway
  'slow_mode',
  'channel_read_only',
  'channel_archived',
  'edit_window_closed',
  'unknown_op',
  'origin_not_allowed',
  'upgrade_required',
  // Key service
  'invalid_key',
  'bad_signature',
  'identity_key_mismatch',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The HTTP status each code maps to. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_error: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  service_unavailable: 503,
  internal_error: 500,
  invalid_credentials: 401,
  totp_required: 401,
  invalid_totp: 401,
  token_expired: 401,
  invalid_token: 401,
  session_revoked: 401,
  account_suspended: 403,
  registration_closed: 403,
  invite_required: 403,
  invalid_invite: 403,
  username_taken: 409,
  email_taken: 409,
  weak_password: 400,
  unsupported_image: 415,
  image_too_large: 413,
  banned: 403,
  limit_reached: 409,
  blocked: 403,
  slow_mode: 429,
  channel_read_only: 403,
  channel_archived: 409,
  edit_window_closed: 403,
  unknown_op: 400,
  origin_not_allowed: 403,
  upgrade_required: 426,
  invalid_key: 400,
  bad_signature: 400,
  identity_key_mismatch: 409,
};

/** One problem found while validating input: where it is and what is wrong. */
export const ValidationIssue = z
  .object({
    path: z.string().describe('Dotted path of the offending field; empty for the whole input.'),
    message: z.string(),
  })
  .meta({ id: 'ValidationIssue' });

/** The body of every error response: `{"error":{"code","message"}}`. */
export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES).describe('Stable, machine-readable error id.'),
      message: z.string().describe('Human-readable explanation; may change between versions.'),
      details: z.array(ValidationIssue).optional().describe('Present on validation errors.'),
    }),
  })
  .meta({ id: 'ErrorResponse', description: 'The error envelope used by every endpoint.' });

export type ErrorResponse = z.infer<typeof ErrorResponse>;
export type ValidationIssue = z.infer<typeof ValidationIssue>;

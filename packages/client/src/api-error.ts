import type { ErrorCode, ValidationIssue } from '@chatalot/protocol';

/**
 * A failed API call. `code` is the server's stable error id, or one of the client-side codes
 * `network_error` (no answer) and `bad_response` (an answer that breaks the contract).
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: ErrorCode | 'network_error' | 'bad_response',
    message: string,
    readonly status: number,
    readonly details: ValidationIssue[] = [],
    readonly retryAfterSecs?: number,
  ) {
    super(message);
  }
}

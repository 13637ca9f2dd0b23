import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_STATUS, ErrorResponse } from './index.js';

describe('error envelope', () => {
  it('maps every code to an HTTP error status', () => {
    for (const code of ERROR_CODES) {
      expect(ERROR_STATUS[code]).toBeGreaterThanOrEqual(400);
      expect(ERROR_STATUS[code]).toBeLessThan(600);
    }
  });

  it('accepts a well-formed envelope and rejects an unknown code', () => {
    expect(ErrorResponse.safeParse({ error: { code: 'not_found', message: 'No such route' } }).success).toBe(true);
    expect(ErrorResponse.safeParse({ error: { code: 'nope', message: 'x' } }).success).toBe(false);
    expect(ErrorResponse.safeParse({ code: 'not_found' }).success).toBe(false);
  });
});

import { ClientFrame, LIMITS } from '@chatalot/protocol';
import { AppError, validationError } from '../errors.js';

/**
 * Nesting depth of a JSON text, counted without parsing it, so a frame of 100,000 `[` never
 * reaches `JSON.parse`. Brackets inside strings do not count.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Parses and validates one client frame; anything wrong is an AppError with a stable code. */
export function parseFrame(data: Buffer | string): ClientFrame {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  if (jsonDepthExceeds(text, LIMITS.jsonDepth)) {
    throw new AppError('invalid_json', `Frames may nest at most ${LIMITS.jsonDepth} levels`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('invalid_json', 'A frame must be one JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError('invalid_json', 'A frame must be one JSON object');
  }
  const op = (value as { op?: unknown }).op;
  const result = ClientFrame.safeParse(value);
  if (result.success) return result.data;
  if (typeof op !== 'string' || !ClientFrame.options.some((o) => o.shape.op.value === op)) {
    throw new AppError(
      'unknown_op',
      typeof op === 'string' ? `Unknown op "${op.slice(0, 64)}"` : 'A frame needs an "op"',
    );
  }
  throw validationError(result.error, `"${op}" frame`);
}

/** The `ref` of a frame that failed to parse, when one can be read, to answer it. */
export function refOf(data: Buffer | string): string | null {
  try {
    const value = JSON.parse(typeof data === 'string' ? data : data.toString('utf8')) as {
      ref?: unknown;
      op?: unknown;
    };
    return typeof value.ref === 'string' && value.ref.length <= 64 ? value.ref : null;
  } catch {
    return null;
  }
}

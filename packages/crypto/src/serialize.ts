/**
 * Versioned serialization of persisted state (sessions, sender keys): a version byte followed
 * by UTF-8 JSON in which byte arrays are written as `{"$b":"<hex>"}`.
 */
import { concat, fromHex, fromUtf8, toHex, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';

export function serializeState(version: number, value: unknown): Uint8Array {
  const json = JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? { $b: toHex(v) } : v));
  return concat(Uint8Array.of(version), utf8(json));
}

export function deserializeState<T>(version: number, bytes: Uint8Array): T {
  if (bytes[0] !== version) throw new CryptoError('invalid_state', `unsupported state version ${bytes[0]}`);
  try {
    return JSON.parse(fromUtf8(bytes.subarray(1)), (_k, v: unknown) => {
      if (v !== null && typeof v === 'object' && '$b' in v && typeof (v as { $b: unknown }).$b === 'string') {
        return fromHex((v as { $b: string }).$b);
      }
      return v;
    }) as T;
  } catch (cause) {
    throw new CryptoError('invalid_state', 'corrupt persisted state', { cause });
  }
}

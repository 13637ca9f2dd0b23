/**
 * Byte helpers for the E2E layer, without Node-only APIs (no Buffer), so the SDK runs in
 * browsers. Decoders are strict: anything that is not the canonical encoding is refused, since
 * most of what they read comes from the (untrusted) server.
 */
import { E2EError } from './errors.js';

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function lookup(alphabet: string): Int16Array {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
}
const STD_LOOKUP = lookup(STD);
const URL_LOOKUP = lookup(URL);

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + (pad ? '=' : '');
  }
  return out;
}

function decode(s: string, table: Int16Array, padded: boolean, what: string): Uint8Array {
  const bad = () => new E2EError('invalid_encoding', `${what}: not canonical base64`);
  let body = s;
  if (padded) {
    if (s.length % 4 !== 0) throw bad();
    if (s.endsWith('==')) body = s.slice(0, -2);
    else if (s.endsWith('=')) body = s.slice(0, -1);
  }
  if (body.length % 4 === 1) throw bad();
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    const v = c < 128 ? table[c]! : -1;
    if (v < 0) throw bad();
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Canonical: the unused low bits of the last character are zero.
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) throw bad();
  return out;
}

/** Standard base64 with padding (message and device-message bodies). */
export function toBase64(bytes: Uint8Array): string {
  return encode(bytes, STD, true);
}

export function fromBase64(s: string, what = 'base64'): Uint8Array {
  return decode(s, STD_LOOKUP, true, what);
}

/** Unpadded base64url (keys and signatures in the key service). */
export function toBase64Url(bytes: Uint8Array): string {
  return encode(bytes, URL, false);
}

export function fromBase64Url(s: string, what = 'base64url'): Uint8Array {
  return decode(s, URL_LOOKUP, false, what);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  try {
    return decoder.decode(b);
  } catch {
    throw new E2EError('invalid_encoding', 'invalid UTF-8');
  }
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Equality of public values (not constant time). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Random bytes from the platform RNG. */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  globalThis.crypto.getRandomValues(out);
  return out;
}

/**
 * JSON with byte arrays written as `{"$b": "<base64>"}`: how records (prekeys, trust, device
 * state) are stored as bytes in a key-value store.
 */
export function encodeRecord(value: unknown): Uint8Array {
  return utf8(JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? { $b: toBase64(v) } : v)));
}

export function decodeRecord<T>(bytes: Uint8Array): T {
  return JSON.parse(fromUtf8(bytes), (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && typeof (v as { $b?: unknown }).$b === 'string') {
      return fromBase64((v as { $b: string }).$b);
    }
    return v;
  }) as T;
}

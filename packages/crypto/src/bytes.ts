/** Byte helpers shared by the package (no Node-only APIs: no Buffer). */
import { CryptoError } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  try {
    return decoder.decode(b);
  } catch (cause) {
    throw new CryptoError('invalid_message', 'invalid UTF-8', { cause });
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Constant-time equality for equal-length inputs. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Lexicographic comparison (not constant time; for public values only). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(h: string): Uint8Array {
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) {
    throw new CryptoError('invalid_message', 'invalid hex');
  }
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function u32be(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new CryptoError('invalid_parameters', 'u32 out of range');
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

/** Length-prefixed (u32be) encoding, so concatenations of variable fields are unambiguous. */
export function lp(b: Uint8Array): Uint8Array {
  return concat(u32be(b.length), b);
}

/** Appends binary fields; the counterpart of {@link ByteReader}. */
export class ByteWriter {
  private readonly parts: Uint8Array[] = [];

  u8(n: number): this {
    this.parts.push(Uint8Array.of(n & 0xff));
    return this;
  }

  u32(n: number): this {
    this.parts.push(u32be(n));
    return this;
  }

  /** Fixed-length bytes (the reader must know the length). */
  fixed(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }

  /** Variable-length bytes with a u32 length prefix. */
  bytes(b: Uint8Array): this {
    this.parts.push(lp(b));
    return this;
  }

  string(s: string): this {
    return this.bytes(utf8(s));
  }

  finish(): Uint8Array {
    return concat(...this.parts);
  }
}

/** Reads binary fields; every read is bounds-checked and `end()` rejects trailing bytes. */
export class ByteReader {
  private off = 0;

  constructor(private readonly buf: Uint8Array) {}

  private take(n: number): Uint8Array {
    if (n < 0 || this.off + n > this.buf.length) {
      throw new CryptoError('invalid_message', 'message truncated');
    }
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }

  u8(): number {
    return this.take(1)[0]!;
  }

  u32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false);
  }

  fixed(n: number): Uint8Array {
    return this.take(n).slice();
  }

  bytes(max = 1 << 26): Uint8Array {
    const n = this.u32();
    if (n > max) throw new CryptoError('invalid_message', 'field too long');
    return this.fixed(n);
  }

  string(max = 1 << 16): string {
    return fromUtf8(this.bytes(max));
  }

  /** Remaining unread bytes. */
  rest(): Uint8Array {
    return this.take(this.buf.length - this.off).slice();
  }

  end(): void {
    if (this.off !== this.buf.length) throw new CryptoError('invalid_message', 'trailing bytes');
  }
}

/**
 * Chunked, streaming file encryption with a random key per file (STREAM-style construction).
 *
 *   stream      = header || chunk_0 || ... || chunk_n        (chunk_n is the only final chunk)
 *   header      = envelope [version][FileStream] || chunk size u32 || salt 16
 *   subkey      = HKDF-SHA256(file key, salt, "chatalot/v1/file-keys", 32)
 *   nonce_i     = 0^7 || u32be(i) || final_i                 (ChaCha20-Poly1305, 12 bytes)
 *   AD_i        = label || header || u32be(i) || final_i
 *
 * Every non-final chunk holds exactly `chunkSize` plaintext bytes, the final one 0..chunkSize.
 * The chunk index and final flag in each nonce and AD make truncation, reordering,
 * duplication and appended data fail authentication.
 */
import { ByteReader, ByteWriter, concat, lp } from './bytes.js';
import { decodeEnvelope, domainLabel, encodeEnvelope, KdfLabel, MessageType } from './envelope.js';
import { CryptoError } from './errors.js';
import { hkdfSha256, TAG_LENGTH, type CryptoContext } from './primitives.js';

/** Default plaintext bytes per chunk. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
const MIN_CHUNK = 1024;
const MAX_CHUNK = 16 * 1024 * 1024;
const HEADER_LENGTH = 2 + 4 + 16;

/** Anything we can read byte pieces from. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

class ByteQueue {
  private parts: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.length += b.length;
  }
  take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const p = this.parts[0]!;
      const k = Math.min(p.length, n - off);
      out.set(p.subarray(0, k), off);
      off += k;
      if (k === p.length) this.parts.shift();
      else this.parts[0] = p.subarray(k);
    }
    this.length -= n;
    return out;
  }
}

function fileSubkey(key: Uint8Array, header: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new CryptoError('invalid_parameters', 'file key must be 32 bytes');
  return hkdfSha256(key, header.subarray(6, 22), KdfLabel.fileKeys, 32);
}

function chunkParams(header: Uint8Array, index: number, final: boolean) {
  const tail = new ByteWriter()
    .u32(index)
    .u8(final ? 1 : 0)
    .finish();
  return { nonce: concat(new Uint8Array(7), tail), ad: concat(lp(domainLabel(MessageType.FileStream)), header, tail) };
}

function parseHeader(header: Uint8Array): number {
  const r = new ByteReader(decodeEnvelope(header, MessageType.FileStream));
  const chunkSize = r.u32();
  r.fixed(16);
  r.end();
  if (chunkSize < MIN_CHUNK || chunkSize > MAX_CHUNK) throw new CryptoError('invalid_message', 'bad chunk size');
  return chunkSize;
}

/** Options of {@link encryptFileStream}. */
export interface FileEncryptOptions {
  /** Plaintext bytes per chunk (1 KiB .. 16 MiB), default 64 KiB. */
  chunkSize?: number;
}

/**
 * Encrypts a byte stream with a fresh random 32-byte key. The key (plus name, type and
 * thumbnail) travels inside an end-to-end encrypted message; the output stream is the blob.
 */
export function encryptFileStream(
  ctx: CryptoContext,
  source: ByteSource,
  opts: FileEncryptOptions = {},
): { key: Uint8Array; stream: AsyncIterable<Uint8Array> } {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK || chunkSize > MAX_CHUNK) {
    throw new CryptoError('invalid_parameters', 'chunk size out of range');
  }
  const key = ctx.rng(32);
  const header = encodeEnvelope(MessageType.FileStream, new ByteWriter().u32(chunkSize).fixed(ctx.rng(16)).finish());
  async function* run(): AsyncGenerator<Uint8Array> {
    yield header;
    const q = new ByteQueue();
    const subkey = fileSubkey(key, header);
    let index = 0;
    const seal = (pt: Uint8Array, final: boolean) => {
      if (index > 0xffffffff) throw new CryptoError('invalid_parameters', 'file too large');
      const p = chunkParams(header, index++, final);
      return ctx.aead.seal('chacha20-poly1305', subkey, p.nonce, pt, p.ad);
    };
    for await (const piece of source) {
      q.push(piece);
      while (q.length > chunkSize) yield seal(q.take(chunkSize), false);
    }
    yield seal(q.take(q.length), true);
  }
  return { key, stream: run() };
}

/**
 * Decrypts a stream made by {@link encryptFileStream}, yielding plaintext chunk by chunk.
 * Input may be split anywhere. Throws `file_truncated` if the stream stops before its final
 * chunk and `decrypt_failed` on any tampering, reordering or duplication. Consumers must
 * treat already-yielded data as unverified until the iteration completes without error.
 */
export async function* decryptFileStream(
  ctx: CryptoContext,
  key: Uint8Array,
  source: ByteSource,
): AsyncGenerator<Uint8Array> {
  const q = new ByteQueue();
  let header: Uint8Array | undefined;
  let subkey: Uint8Array = new Uint8Array(0);
  let encChunk = 0;
  let index = 0;
  const open = (ct: Uint8Array, final: boolean) => {
    const p = chunkParams(header!, index, final);
    return ctx.aead.open('chacha20-poly1305', subkey, p.nonce, ct, p.ad);
  };
  for await (const piece of source) {
    q.push(piece);
    if (!header && q.length >= HEADER_LENGTH) {
      header = q.take(HEADER_LENGTH);
      encChunk = parseHeader(header) + TAG_LENGTH;
      subkey = fileSubkey(key, header);
    }
    while (header && q.length > encChunk) {
      yield open(q.take(encChunk), false);
      index++;
    }
  }
  if (!header || q.length < TAG_LENGTH) throw new CryptoError('file_truncated', 'stream ended early');
  const last = q.take(q.length);
  try {
    yield open(last, true);
  } catch (e) {
    // Distinguish a stream cut at a chunk boundary from tampering, for the error message.
    if (last.length === encChunk) {
      try {
        open(last, false);
      } catch {
        throw e;
      }
      throw new CryptoError('file_truncated', 'final chunk missing');
    }
    throw e;
  }
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return concat(...parts);
}

/** Encrypts a whole buffer: `{ key, ciphertext }`. */
export async function encryptFile(
  ctx: CryptoContext,
  data: Uint8Array,
  opts: FileEncryptOptions = {},
): Promise<{ key: Uint8Array; ciphertext: Uint8Array }> {
  const { key, stream } = encryptFileStream(ctx, [data], opts);
  return { key, ciphertext: await collect(stream) };
}

/** Decrypts a whole buffer made by {@link encryptFile}. */
export function decryptFile(ctx: CryptoContext, key: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
  return collect(decryptFileStream(ctx, key, [ciphertext]));
}

/** Chunked file encryption: round trips and every way of cutting or shuffling the stream. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from '../src/bytes.js';
import {
  CryptoError,
  decryptFile,
  decryptFileStream,
  encryptFile,
  encryptFileStream,
  type CryptoErrorCode,
} from '../src/index.js';
import { testContext } from './helpers.js';

const CHUNK = 1024;
const HEADER = 22;
const ENC = CHUNK + 16;
const ctx = testContext('files');

async function expectCode(p: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => e instanceof CryptoError && e.code === code);
}

function data(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
}

/** Splits a stream into header and encrypted chunks. */
function split(ct: Uint8Array): { header: Uint8Array; chunks: Uint8Array[] } {
  const chunks = [];
  for (let off = HEADER; off < ct.length; off += ENC) chunks.push(ct.slice(off, Math.min(ct.length, off + ENC)));
  return { header: ct.slice(0, HEADER), chunks };
}

describe('file encryption', () => {
  it.each([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 500, 4 * CHUNK])('round trip of %i bytes', async (n) => {
    const { key, ciphertext } = await encryptFile(ctx, data(n), { chunkSize: CHUNK });
    expect(ciphertext.length).toBe(HEADER + n + 16 * Math.max(1, Math.ceil(n / CHUNK)));
    expect(await decryptFile(ctx, key, ciphertext)).toEqual(data(n));
  });

  it('streams: input and output split at arbitrary points', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5000 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 8 }),
        async (n, cuts) => {
          const plain = data(n);
          const pieces = (b: Uint8Array) => {
            const out = [];
            let off = 0;
            for (const c of cuts) {
              if (off >= b.length) break;
              out.push(b.slice(off, off + c));
              off += c;
            }
            out.push(b.slice(off));
            return out;
          };
          const { key, stream } = encryptFileStream(ctx, pieces(plain), { chunkSize: CHUNK });
          const enc = [];
          for await (const c of stream) enc.push(c);
          const dec = [];
          for await (const c of decryptFileStream(ctx, key, pieces(concat(...enc)))) dec.push(c);
          expect(concat(...dec)).toEqual(plain);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('truncation at a chunk boundary is detected', async () => {
    const { key, ciphertext } = await encryptFile(ctx, data(3 * CHUNK + 10), { chunkSize: CHUNK });
    const { header, chunks } = split(ciphertext);
    await expectCode(decryptFile(ctx, key, concat(header, ...chunks.slice(0, 2))), 'file_truncated');
    await expectCode(decryptFile(ctx, key, header), 'file_truncated');
    await expectCode(decryptFile(ctx, key, header.slice(0, 10)), 'file_truncated');
  });

  it('truncation inside a chunk, reorder, duplication and appended data are detected', async () => {
    const { key, ciphertext } = await encryptFile(ctx, data(3 * CHUNK + 10), { chunkSize: CHUNK });
    const { header, chunks } = split(ciphertext);
    const [c0, c1, c2, c3] = chunks as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    await expectCode(decryptFile(ctx, key, ciphertext.slice(0, ciphertext.length - 5)), 'decrypt_failed');
    await expectCode(decryptFile(ctx, key, concat(header, c1, c0, c2, c3)), 'decrypt_failed');
    await expectCode(decryptFile(ctx, key, concat(header, c0, c0, c1, c2, c3)), 'decrypt_failed');
    await expectCode(decryptFile(ctx, key, concat(header, c0, c1, c2, c3, c3)), 'decrypt_failed');
    await expectCode(decryptFile(ctx, key, concat(ciphertext, new Uint8Array(1))), 'decrypt_failed');
  });

  it('wrong key, tampered header or chunk, or another file header fail', async () => {
    const { key, ciphertext } = await encryptFile(ctx, data(2 * CHUNK), { chunkSize: CHUNK });
    const other = await encryptFile(ctx, data(2 * CHUNK), { chunkSize: CHUNK });
    await expectCode(decryptFile(ctx, other.key, ciphertext), 'decrypt_failed');
    const salt = ciphertext.slice();
    salt[10]! ^= 1;
    await expectCode(decryptFile(ctx, key, salt), 'decrypt_failed');
    const body = ciphertext.slice();
    body[HEADER + 3]! ^= 1;
    await expectCode(decryptFile(ctx, key, body), 'decrypt_failed');
    const swapped = concat(other.ciphertext.slice(0, HEADER), ciphertext.slice(HEADER));
    await expectCode(decryptFile(ctx, key, swapped), 'decrypt_failed');
  });
});

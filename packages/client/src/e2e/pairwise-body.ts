/**
 * The body of a `pairwise` (DM) message: one Double Ratchet ciphertext per recipient device,
 * packed into the single message ciphertext. Binary, big-endian:
 *
 *   version   u8   = 1
 *   count     u16  number of entries (≥ 1)
 *   entries   count × ( userIdLength u8 || userId UTF-8 || deviceId u32 || length u32 || ciphertext )
 *
 * Each ciphertext is a @chatalot/crypto prekey or ratchet message (type 1 or 2) to that device;
 * a receiver picks the entry for its own address. The server can read the list of recipient
 * devices (it knows them anyway), not the contents.
 */
import type { ProtocolAddress } from '@chatalot/crypto';
import { fromUtf8, utf8 } from './bytes.js';
import { E2EError } from './errors.js';

export const PAIRWISE_BODY_VERSION = 1;

export interface PairwiseEntry {
  address: ProtocolAddress;
  ciphertext: Uint8Array;
}

export function encodePairwiseBody(entries: readonly PairwiseEntry[]): Uint8Array {
  if (entries.length === 0 || entries.length > 0xffff) throw new E2EError('invalid_format', 'bad entry count');
  const parts: Uint8Array[] = [];
  let size = 3;
  for (const e of entries) {
    const id = utf8(e.address.userId);
    if (id.length === 0 || id.length > 255) throw new E2EError('invalid_format', 'user id too long');
    const head = new Uint8Array(1 + id.length + 8);
    head[0] = id.length;
    head.set(id, 1);
    const view = new DataView(head.buffer);
    view.setUint32(1 + id.length, e.address.deviceId, false);
    view.setUint32(5 + id.length, e.ciphertext.length, false);
    parts.push(head, e.ciphertext);
    size += head.length + e.ciphertext.length;
  }
  const out = new Uint8Array(size);
  out[0] = PAIRWISE_BODY_VERSION;
  new DataView(out.buffer).setUint16(1, entries.length, false);
  let off = 3;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function decodePairwiseBody(body: Uint8Array): PairwiseEntry[] {
  const bad = (why: string) => new E2EError('invalid_format', `pairwise body: ${why}`);
  if (body.length < 3) throw bad('too short');
  if (body[0] !== PAIRWISE_BODY_VERSION) throw new E2EError('unsupported_version', `pairwise body version ${body[0]}`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const count = view.getUint16(1, false);
  if (count === 0) throw bad('no entries');
  const entries: PairwiseEntry[] = [];
  let off = 3;
  for (let i = 0; i < count; i++) {
    if (off + 1 > body.length) throw bad('truncated');
    const idLength = body[off]!;
    if (idLength === 0 || off + 1 + idLength + 8 > body.length) throw bad('truncated');
    const userId = fromUtf8(body.subarray(off + 1, off + 1 + idLength));
    const deviceId = view.getUint32(off + 1 + idLength, false);
    const length = view.getUint32(off + 5 + idLength, false);
    off += 9 + idLength;
    if (off + length > body.length) throw bad('truncated');
    entries.push({ address: { userId, deviceId }, ciphertext: body.slice(off, off + length) });
    off += length;
  }
  if (off !== body.length) throw bad('trailing bytes');
  return entries;
}

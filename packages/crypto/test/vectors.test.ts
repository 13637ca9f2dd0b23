/** Known-answer vectors for our own constructions (fixed RNG -> fixed bytes). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../src/bytes.js';
import { decryptFile, restoreKeyBackup } from '../src/index.js';
import { computeVectors } from './vectors/compute.js';
import { testContext } from './helpers.js';

const committed = JSON.parse(readFileSync(new URL('./vectors/constructions.json', import.meta.url), 'utf8')) as Record<
  string,
  string
>;

describe('construction vectors', () => {
  it('the code reproduces every committed vector byte for byte', async () => {
    const computed = await computeVectors();
    expect(Object.keys(computed).sort()).toEqual(Object.keys(committed).sort());
    for (const k of Object.keys(committed)) expect({ [k]: computed[k] }).toEqual({ [k]: committed[k] });
  });

  it('committed ciphertexts still decrypt', async () => {
    const ctx = testContext('any');
    const file = await decryptFile(ctx, fromHex(committed.fileKey!), fromHex(committed.fileCiphertext!));
    expect(file).toEqual(new Uint8Array(2500).map((_, i) => i & 0xff));
    const backup = await restoreKeyBackup(ctx, 'vector passphrase', fromHex(committed.keyBackup!));
    expect(backup.identity.publicKey).toEqual(fromHex(committed.identityA!));
    expect(committed.safetyNumber).toMatch(/^\d{60}$/);
  });
});

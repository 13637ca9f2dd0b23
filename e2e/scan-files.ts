import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface ScanResult {
  /** How many files were read. */
  files: number;
  /** Each needle found, with the file it was found in (relative to the root). */
  hits: { needle: string; file: string; encoding: string }[];
}

/**
 * Searches every file under `root` (recursively: a database, its WAL and journal, uploads,
 * secrets) for each needle, as UTF-8 and as UTF-16LE bytes, and also for the base64 of its UTF-8
 * bytes (a server that stored a "ciphertext" that is only the plaintext encoded would show up).
 */
export async function findInFiles(root: string, needles: readonly string[]): Promise<ScanResult> {
  const hits: ScanResult['hits'] = [];
  let files = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(full);
        continue;
      }
      if (!entry.isFile()) continue;
      let bytes: Buffer;
      try {
        bytes = await readFile(full);
      } catch {
        continue; // removed meanwhile (a WAL checkpoint, say)
      }
      files++;
      for (const needle of needles) {
        const forms: [string, Buffer][] = [
          ['utf8', Buffer.from(needle, 'utf8')],
          ['utf16le', Buffer.from(needle, 'utf16le')],
          ['base64', Buffer.from(Buffer.from(needle, 'utf8').toString('base64').slice(0, -4), 'latin1')],
        ];
        for (const [encoding, form] of forms) {
          if (form.length > 0 && bytes.includes(form)) hits.push({ needle, file: path.relative(root, full), encoding });
        }
      }
    }
  };
  await walk(root);
  return { files, hits };
}

/**
 * Edit history. The server keeps every version's ciphertext (`GET /api/messages/:id/versions`),
 * but the E2E layer caches only the plaintext of a message's current version, and an older
 * ciphertext cannot be decrypted again (its ratchet or chain key is used up). So this device
 * keeps the texts it has seen itself: when a message it had decrypted changes, the previous text
 * is written to the encrypted key store (IndexedDB, wrapped like the keys) under the digest of
 * its ciphertext. Versions this device never saw are shown as such, never guessed.
 */
import type { Message } from '@chatalot/protocol';
import { e2e } from './e2e-session.svelte';
import { listVersions } from './message-rest';

const PREFIX = 'web/versions/';
/** Versions kept per message (an edit storm cannot grow the store without bound). */
const MAX_KEPT = 50;

type Log = Record<string, string>;

export async function digestOf(ciphertext: string): Promise<string> {
  const bytes = new TextEncoder().encode(ciphertext);
  const hash = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  return [...hash].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function readLog(messageId: string): Promise<Log> {
  const kv = e2e.client?.store.kv;
  const raw = kv ? await kv.get(PREFIX + messageId) : undefined;
  if (!raw) return {};
  try {
    return JSON.parse(new TextDecoder().decode(raw)) as Log;
  } catch {
    return {};
  }
}

/** Keeps the text of a version this device decrypted, before it is replaced by an edit. */
export async function keepVersion(messageId: string, ciphertext: string, text: string): Promise<void> {
  const kv = e2e.client?.store.kv;
  if (!kv || ciphertext === '') return;
  const log = await readLog(messageId);
  log[await digestOf(ciphertext)] = text;
  const entries = Object.entries(log).slice(-MAX_KEPT);
  await kv.set(PREFIX + messageId, new TextEncoder().encode(JSON.stringify(Object.fromEntries(entries))));
}

/** Forgets a deleted message's versions. */
export async function forgetVersions(messageId: string): Promise<void> {
  await e2e.client?.store.kv.delete(PREFIX + messageId);
}

export interface ShownVersion {
  at: number;
  /** Null: this device never decrypted that version. */
  text: string | null;
  current: boolean;
}

/** The versions of `message`, oldest first, with the texts this device knows. */
export async function loadVersions(message: Message, currentText: string | null): Promise<ShownVersion[]> {
  const [versions, log] = await Promise.all([listVersions(message.id), readLog(message.id)]);
  const shown: ShownVersion[] = [];
  for (const [i, version] of versions.entries()) {
    const current = i === versions.length - 1;
    const known = log[await digestOf(version.ciphertext)];
    const text = version.ciphertext === message.ciphertext && currentText !== null ? currentText : (known ?? null);
    shown.push({ at: version.created_at, text, current });
  }
  return shown;
}

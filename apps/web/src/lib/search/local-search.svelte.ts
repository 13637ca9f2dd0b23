/**
 * This browser's store of the messages it decrypted, for search (the server holds only
 * ciphertext and cannot search). A MessageStore from @chatalot/client over its own encrypted
 * IndexedDB database, `chatalot-messages-<userId>`, whose values are AES-GCM-encrypted under a
 * non-extractable WebCrypto key kept in that database, as the key store's are.
 *
 * - Opened and closed with the E2E session (e2e-session.svelte.ts calls `open`/`close`), so
 *   only the tab holding the session's lock writes to it.
 * - Every message the session decrypts is recorded (`record`, called from `e2e.decrypt`):
 *   history, live messages, edits, threads and pins alike. Deletions come from the chat view
 *   (`remove`) and from the gateway's `message.deleted` events for any channel; an edit in a
 *   channel that is not on screen is decrypted here if its message is stored.
 * - Signing out (by hand, or the session ending) deletes the database.
 */
import {
  deleteIndexedDbKeyStore,
  MessageStore,
  openIndexedDbKeyStore,
  type DecryptResult,
  type IndexedDbKeyStore,
} from '@chatalot/client';
import { Message as MessageSchema, type Message } from '@chatalot/protocol';
import { untrack } from 'svelte';
import { realtime } from '$lib/realtime.svelte';
import { session } from '$lib/session.svelte';
import { workspace } from '$lib/workspace.svelte';

export function messageStoreName(userId: string): string {
  return `chatalot-messages-${userId}`;
}

class LocalSearch {
  /** The store, once open for the signed-in user (null while closed or if it could not open). */
  store = $state.raw<MessageStore | null>(null);
  /** Why the store could not open (IndexedDB unavailable, say); search says so. */
  error = $state<string | null>(null);

  private userId: string | null = null;
  private kv: IndexedDbKeyStore | null = null;
  private opening: Promise<MessageStore | null> | null = null;
  /** Moved by every open and close, so a slow open that was overtaken closes what it opened. */
  private generation = 0;
  private decrypt: ((message: Message) => Promise<unknown>) | null = null;

  constructor() {
    realtime.on('event', (event) => this.onEvent(event));
  }

  /**
   * Opens the store of `userId` (the E2E session calls this once it is ready). `decrypt` is
   * the session's own, used for edits made in channels that are not on screen.
   */
  open(userId: string, decrypt: (message: Message) => Promise<unknown>): void {
    this.decrypt = decrypt;
    if (this.userId === userId && this.opening) return;
    this.close();
    this.userId = userId;
    this.error = null;
    const generation = ++this.generation;
    this.opening = (async () => {
      try {
        const kv = await openIndexedDbKeyStore({ name: messageStoreName(userId) });
        if (generation !== this.generation) {
          kv.raw.close();
          return null;
        }
        this.kv = kv;
        this.store = new MessageStore(kv);
        return this.store;
      } catch {
        if (generation === this.generation)
          this.error = 'This browser cannot keep a local message store (IndexedDB is unavailable).';
        return null;
      }
    })();
  }

  /** Writes what is pending and closes the database (the E2E session stopped). */
  close(): void {
    const store = this.store;
    const kv = this.kv;
    this.generation++;
    this.opening = null;
    this.store = null;
    this.kv = null;
    this.userId = null;
    this.decrypt = null;
    if (store && kv)
      void store
        .close()
        .catch(() => undefined)
        .finally(() => kv.raw.close());
  }

  /** Records what decrypting a message gave (only readable messages are kept). */
  record(message: Message, result: DecryptResult): void {
    if (result.status !== 'ok' || message.deleted_at !== null) return;
    void this.opening?.then((store) => store?.record(message, result.content)).catch(() => undefined);
  }

  /** Forgets a deleted message. */
  remove(messageId: string, at?: { channel_id: string; seq: number }): void {
    void this.opening?.then((store) => store?.remove(messageId, at)).catch(() => undefined);
  }

  /** Deletes the store of `userId` from this browser (sign-out). */
  async wipe(userId: string): Promise<void> {
    if (this.userId === userId) {
      const store = await this.opening;
      this.close();
      await store?.wipe().catch(() => undefined);
    }
    await deleteIndexedDbKeyStore({ name: messageStoreName(userId) }).catch(() => undefined);
  }

  private onEvent(event: { type: string; [field: string]: unknown }): void {
    if (!this.opening || typeof event.channel_id !== 'string') return;
    const channelId = event.channel_id;
    if (event.type === 'message.deleted' && typeof event.message_id === 'string') {
      const at = typeof event.seq === 'number' ? { channel_id: channelId, seq: event.seq } : undefined;
      this.remove(event.message_id, at);
    } else if (event.type === 'message.updated' && workspace.activeChannelId !== channelId) {
      // On screen, the chat view decrypts the edit (and `record` keeps it); elsewhere, here.
      const parsed = MessageSchema.safeParse(event.message);
      if (parsed.success) void this.editOffScreen(parsed.data);
    }
  }

  private async editOffScreen(message: Message): Promise<void> {
    const store = await this.opening;
    const decrypt = this.decrypt;
    if (!store || !decrypt) return;
    const stored = await store.get(message.id, message).catch(() => undefined);
    // Only messages this device has read already: nothing new is decrypted behind the reader's back.
    if (stored) await decrypt(message).catch(() => undefined);
  }
}

/** The signed-in user's local message store in this browser. */
export const localSearch = new LocalSearch();

// Signing out (or the session ending) deletes the signed-out user's store from this browser.
let signedIn: string | null = null;
$effect.root(() => {
  $effect(() => {
    const userId = session.user?.id ?? null;
    const status = session.status;
    untrack(() => {
      if (signedIn && userId !== signedIn && status === 'signed_out') void localSearch.wipe(signedIn);
      if (status !== 'loading') signedIn = userId;
    });
  });
});

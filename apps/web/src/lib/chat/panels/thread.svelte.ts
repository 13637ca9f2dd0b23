/**
 * One thread as the thread panel shows it: the root message and its replies, decrypted. When the
 * root is in the conversation's loaded window, so is every reply (see threads.ts) and the thread
 * is read from there, live; otherwise the root and the replies are read over REST
 * (`GET /api/messages/:id`, `GET /api/messages/:id/thread`), and new ones still arrive through
 * the conversation.
 */
import { describeError } from '$lib/errors';
import type { ChatEntry, Conversation } from '../conversation.svelte';
import { e2e } from '../e2e-session.svelte';
import { getMessage, threadPage } from '../message-rest';
import { mergeById } from '../threads';

/** Pages of 100 read at most for one thread. */
const MAX_PAGES = 10;

export class Thread {
  /** The root and replies read over REST (only when the root is not loaded in the conversation). */
  private fetchedRoot = $state.raw<ChatEntry | null>(null);
  private fetched = $state.raw<ChatEntry[]>([]);
  loading = $state(false);
  error = $state<string | null>(null);
  private closed = false;

  constructor(
    private readonly conv: Conversation,
    readonly rootId: string,
  ) {}

  readonly root = $derived.by(() => this.conv.entries.find((e) => e.message.id === this.rootId) ?? this.fetchedRoot);

  readonly replies = $derived.by(() =>
    mergeById(
      this.conv.entries.filter((e) => e.message.thread_root === this.rootId),
      this.fetched,
    ),
  );

  /** Our replies in this thread on their way. */
  readonly pending = $derived.by(() => this.conv.pending.filter((p) => p.thread === this.rootId));

  /** Reads the root and the replies when the conversation does not have them. */
  async load(): Promise<void> {
    if (this.conv.entries.some((e) => e.message.id === this.rootId)) return;
    this.loading = true;
    this.error = null;
    try {
      const root = await getMessage(this.rootId);
      const rootEntry = { message: root, result: await e2e.decrypt(root) };
      const replies: ChatEntry[] = [];
      let after: number | undefined;
      for (let i = 0; i < MAX_PAGES && !this.closed; i++) {
        const page = await threadPage(this.rootId, after);
        for (const message of page.messages) replies.push({ message, result: await e2e.decrypt(message) });
        after = page.messages.at(-1)?.seq;
        if (!page.has_more || after === undefined) break;
      }
      if (this.closed) return;
      this.fetchedRoot = rootEntry;
      this.fetched = replies;
    } catch (err) {
      if (!this.closed) this.error = describeError(err).message;
    } finally {
      this.loading = false;
    }
  }

  close(): void {
    this.closed = true;
  }
}

/**
 * Threads. The server puts every reply in the thread of its root (a reply to a reply points to
 * the first message), so the thread of a message is everything that replied to it, directly or
 * not. What sets a reply "in thread" apart is inside the encrypted content: a quoting reply
 * carries the quote (`content.reply`) and shows in the channel; a thread reply carries none and
 * shows only in its thread, its root counting it ("3 replies"). Since a loaded channel window
 * always reaches the latest message, every reply of a root on screen is loaded too.
 */
import type { ChatEntry } from './conversation.svelte';

/** A reply made in a thread panel: hidden from the channel when its root is there to count it. */
export function isThreadReply(entry: ChatEntry): boolean {
  return (
    entry.message.thread_root !== null &&
    entry.message.deleted_at === null &&
    entry.result.status === 'ok' &&
    entry.result.content.reply === undefined
  );
}

export interface ThreadSummary {
  count: number;
  lastAt: number;
  /** Who replied, most recent first, each once. */
  repliers: string[];
}

/** "N replies · last reply time" for each root among `entries` (replies not deleted). */
export function threadSummaries(entries: readonly ChatEntry[]): Map<string, ThreadSummary> {
  const out = new Map<string, ThreadSummary>();
  for (const entry of entries) {
    const root = entry.message.thread_root;
    if (root === null || entry.message.deleted_at !== null) continue;
    const summary = out.get(root) ?? { count: 0, lastAt: 0, repliers: [] };
    summary.count++;
    summary.lastAt = Math.max(summary.lastAt, entry.message.created_at);
    summary.repliers = [entry.message.sender_id, ...summary.repliers.filter((id) => id !== entry.message.sender_id)];
    out.set(root, summary);
  }
  return out;
}

/** Merges two lists of entries by id (the first wins), ascending by seq. */
export function mergeById(preferred: readonly ChatEntry[], others: readonly ChatEntry[]): ChatEntry[] {
  const seen = new Set(preferred.map((e) => e.message.id));
  return [...preferred, ...others.filter((e) => !seen.has(e.message.id))].sort((a, b) => a.message.seq - b.message.seq);
}

/**
 * Where the reader had read up to when they opened a conversation, for the "NEW MESSAGES" line.
 *
 * The workspace marks a conversation read as soon as it is on screen (and right after its read
 * states load), so by the time the messages are shown its read cursor has already moved. The
 * cursor is therefore captured the moment a conversation is opened: from the workspace's read
 * state when it still shows unread messages, and from the server (whose cursor moves a little
 * later, when the workspace's mark arrives there); the earlier of the two wins.
 */
import { readStates } from '$lib/api/spaces';
import { workspace } from '$lib/workspace.svelte';

const captured = new Map<string, { local: number | null; cursor: Promise<number | null> }>();

function unreadFrom(state: { read_seq: number; last_seq: number } | undefined): number | null {
  return state && state.read_seq < state.last_seq ? state.read_seq : null;
}

/** Takes the read cursor of `channelId` now (call it when the conversation opens). */
export function captureReadCursor(channelId: string): void {
  const local = unreadFrom(workspace.reads.get(channelId));
  const server = readStates()
    .then((list) => unreadFrom(list.find((s) => s.channel_id === channelId)))
    .catch(() => null);
  const cursor = server.then((remote) => {
    if (local === null) return remote;
    return remote === null ? local : Math.min(local, remote);
  });
  captured.set(channelId, { local, cursor });
}

/** The cursor captured when `channelId` was opened (null: nothing was unread). */
export function readCursorOf(channelId: string): Promise<number | null> {
  const entry = captured.get(channelId);
  if (!entry) return Promise.resolve(unreadFrom(workspace.reads.get(channelId)));
  // Never hold the conversation up for long.
  return Promise.race([
    entry.cursor,
    new Promise<number | null>((resolve) => setTimeout(() => resolve(entry.local), 3000)),
  ]);
}

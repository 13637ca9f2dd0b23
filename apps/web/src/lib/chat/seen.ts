/** Where each reader's read mark sits in a conversation ("Seen by …"). */

/**
 * For each message id, who read up to it: each reader sits under the last of `shown` (the
 * messages on screen, ascending) at or below their read mark that someone else sent (their own
 * messages say nothing about what they saw).
 */
export function seenAt(
  shown: readonly { id: string; seq: number; senderId: string }[],
  readers: ReadonlyMap<string, number>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [userId, readSeq] of readers) {
    let at: string | null = null;
    for (const m of shown) {
      if (m.seq > readSeq) break;
      if (m.senderId !== userId) at = m.id;
    }
    if (at === null) continue;
    const list = out.get(at) ?? [];
    list.push(userId);
    out.set(at, list);
  }
  return out;
}

import { describe, expect, it } from 'vitest';
import { testEntry as entry } from './test-entry';
import { isThreadReply, mergeById, threadSummaries } from './threads';

describe('threads', () => {
  const root = entry('root', 1);
  const quoted = entry(
    'quoted',
    2,
    { reply_to: 'root', thread_root: 'root', sender_id: 'grace' },
    {
      text: 'quoted',
      reply: { message_id: 'root' },
    },
  );
  const inThread = entry('in-thread', 3, { reply_to: 'root', thread_root: 'root', sender_id: 'grace' });
  const later = entry('later', 4, { reply_to: 'root', thread_root: 'root', sender_id: 'ada' });

  it('tells a reply made in a thread (no quote) from a quoting reply', () => {
    expect(isThreadReply(root)).toBe(false);
    expect(isThreadReply(quoted)).toBe(false);
    expect(isThreadReply(inThread)).toBe(true);
    // A message that did not decrypt shows in the channel (what it is cannot be known).
    expect(isThreadReply({ ...inThread, result: { status: 'failed', reason: 'invalid_format' } })).toBe(false);
    expect(isThreadReply({ ...inThread, message: { ...inThread.message, deleted_at: 5 } })).toBe(false);
  });

  it('counts every reply under its root, with the last time and the repliers, most recent first', () => {
    const deleted = entry('gone', 5, { thread_root: 'root', deleted_at: 6000 });
    const summary = threadSummaries([root, quoted, inThread, later, deleted]).get('root');
    expect(summary).toEqual({ count: 3, lastAt: 4000, repliers: ['ada', 'grace'] });
    expect(threadSummaries([root]).size).toBe(0);
  });

  it('merges two lists by id, the first winning, in seq order', () => {
    const newer = { ...inThread, message: { ...inThread.message, edited_at: 9 } };
    const merged = mergeById([later, newer], [inThread, quoted]);
    expect(merged.map((e) => e.message.id)).toEqual(['quoted', 'in-thread', 'later']);
    expect(merged[1]!.message.edited_at).toBe(9);
  });
});

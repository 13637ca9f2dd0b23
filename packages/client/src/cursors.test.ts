import type { Message } from '@chatalot/protocol';
import { describe, expect, it } from 'vitest';
import { ChannelCursors } from './cursors.js';

function msg(seq: number, channel = 'c1'): Message {
  return {
    id: `${channel}-${seq}`,
    channel_id: channel,
    seq,
    sender_id: 'u1',
    nonce: `nonce-${channel}-${seq}`,
    ciphertext: 'AAAA',
    encryption: { scheme: 'sender_key' },
    reply_to: null,
    thread_root: null,
    forwarded_from: null,
    mentions: [],
    mention_everyone: false,
    created_at: seq,
    edited_at: null,
    deleted_at: null,
    expires_at: null,
    reactions: [],
    pinned: false,
  };
}
const seqs = (messages: Message[]) => messages.map((m) => m.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('ChannelCursors', () => {
  it('starts a channel the socket was just given at the seq the server named, keeping known cursors', () => {
    const c = new ChannelCursors([{ channel_id: 'c1', seq: 4 }]);
    c.add([
      { channel_id: 'c1', last_seq: 9 },
      { channel_id: 'c2', last_seq: 7 },
    ]);
    expect(c.get('c1')).toBe(4);
    expect(c.get('c2')).toBe(7);
    expect(seqs(c.receive(msg(8, 'c2')))).toEqual([8]);
    expect(c.hasGap('c2')).toBe(false);
  });

  it('delivers in-order messages at once and drops duplicates', () => {
    const c = new ChannelCursors([{ channel_id: 'c1', seq: 4 }]);
    expect(seqs(c.receive(msg(5)))).toEqual([5]);
    expect(seqs(c.receive(msg(6)))).toEqual([6]);
    expect(c.receive(msg(6))).toEqual([]);
    expect(c.receive(msg(3))).toEqual([]);
    expect(c.get('c1')).toBe(6);
    expect(c.hasGap('c1')).toBe(false);
  });

  it('holds messages that skip ahead until the gap fills, then delivers them in order', () => {
    const c = new ChannelCursors([{ channel_id: 'c1', seq: 0 }]);
    expect(c.receive(msg(3))).toEqual([]);
    expect(c.receive(msg(5))).toEqual([]);
    expect(c.receive(msg(3))).toEqual([]); // a duplicate of a waiting one
    expect(c.hasGap('c1')).toBe(true);
    expect(c.gaps()).toEqual(['c1']);
    expect(seqs(c.receive(msg(1)))).toEqual([1]);
    expect(seqs(c.receive(msg(2)))).toEqual([2, 3]);
    expect(c.hasGap('c1')).toBe(true);
    expect(seqs(c.receive(msg(4)))).toEqual([4, 5]);
    expect(c.hasGap('c1')).toBe(false);
    expect(c.get('c1')).toBe(5);
  });

  it('fills a live gap from a history page, merging with what waits and dropping overlaps', () => {
    const c = new ChannelCursors([{ channel_id: 'c1', seq: 10 }]);
    c.receive(msg(14));
    c.receive(msg(15));
    const mark = c.mark();
    // The page overlaps what is waiting and goes beyond it.
    const out = c.applyHistory('c1', [msg(11), msg(12), msg(13), msg(14), msg(15), msg(16)], mark);
    expect(seqs(out)).toEqual([11, 12, 13, 14, 15, 16]);
    expect(c.get('c1')).toBe(16);
    expect(c.hasGap('c1')).toBe(false);
    // The live copy of 16 arriving later is a duplicate.
    expect(c.receive(msg(16))).toEqual([]);
  });

  it('skips seqs a history page proves are gone (purged below a returned message)', () => {
    const c = new ChannelCursors([{ channel_id: 'c1', seq: 10 }]);
    c.receive(msg(20));
    const out = c.applyHistory('c1', [msg(12), msg(15), msg(20), msg(21)], c.mark());
    expect(seqs(out)).toEqual([12, 15, 20, 21]);
    expect(c.get('c1')).toBe(21);
  });

  it('keeps reading when a page stops short of the waiting messages (page limit)', () => {
    const c = new ChannelCursors([{ channel_id: 'c1', seq: 0 }]);
    c.receive(msg(250));
    const first = c.applyHistory(
      'c1',
      range(1, 100).map((s) => msg(s)),
      c.mark(),
    );
    expect(first).toHaveLength(100);
    expect(c.hasGap('c1')).toBe(true);
    const second = c.applyHistory(
      'c1',
      range(101, 200).map((s) => msg(s)),
      c.mark(),
    );
    const third = c.applyHistory(
      'c1',
      range(201, 260).map((s) => msg(s)),
      c.mark(),
    );
    expect([...first, ...second, ...third].map((m) => m.seq)).toEqual(range(1, 260));
    expect(c.hasGap('c1')).toBe(false);
  });

  it('on an empty page, skips ahead only to messages that arrived before the read', () => {
    const c = new ChannelCursors([{ channel_id: 'c1', seq: 10 }]);
    c.receive(msg(13));
    const mark = c.mark();
    c.receive(msg(20)); // arrived while the read was in flight: proves nothing
    const out = c.applyHistory('c1', [], mark);
    expect(seqs(out)).toEqual([13]);
    expect(c.hasGap('c1')).toBe(true);
    // The next read (after 20 arrived) comes back empty as well: 14–19 are gone.
    expect(seqs(c.applyHistory('c1', [], c.mark()))).toEqual([20]);
    expect(c.hasGap('c1')).toBe(false);
  });

  it('ignores an empty page when nothing waits, and messages of other channels in a page', () => {
    const c = new ChannelCursors([{ channel_id: 'c1', seq: 3 }]);
    expect(c.applyHistory('c1', [], c.mark())).toEqual([]);
    expect(c.get('c1')).toBe(3);
    expect(seqs(c.applyHistory('c1', [msg(4, 'c2'), msg(4)], c.mark()))).toEqual([4]);
    expect(c.get('c2')).toBeUndefined();
  });

  it('keeps channels apart', () => {
    const c = new ChannelCursors([
      { channel_id: 'a', seq: 1 },
      { channel_id: 'b', seq: 7 },
    ]);
    expect(c.receive(msg(3, 'a'))).toEqual([]);
    expect(seqs(c.receive(msg(8, 'b')))).toEqual([8]);
    expect(c.hasGap('a')).toBe(true);
    expect(c.hasGap('b')).toBe(false);
  });

  it('starts a channel it never saw at its first message (access given while connected)', () => {
    const c = new ChannelCursors();
    expect(seqs(c.receive(msg(42, 'new')))).toEqual([42]);
    expect(seqs(c.receive(msg(43, 'new')))).toEqual([43]);
    expect(c.list()).toEqual([{ channel_id: 'new', seq: 43 }]);
  });

  it('syncs with ready: forgets unlisted channels, starts new ones at their latest, lowers cursors past it', () => {
    const c = new ChannelCursors([
      { channel_id: 'kept', seq: 5 },
      { channel_id: 'gone', seq: 9 },
      { channel_id: 'ahead', seq: 50 },
    ]);
    c.receive(msg(60, 'ahead'));
    const forgotten = c.sync([
      { channel_id: 'kept', last_seq: 8 },
      { channel_id: 'ahead', last_seq: 30 },
      { channel_id: 'fresh', last_seq: 12 },
    ]);
    expect(forgotten).toEqual(['gone']);
    expect(Object.fromEntries(c.list().map((x) => [x.channel_id, x.seq]))).toEqual({ kept: 5, ahead: 30, fresh: 12 });
    expect(c.hasGap('ahead')).toBe(false);
    expect(seqs(c.receive(msg(13, 'fresh')))).toEqual([13]);
  });

  it('delivers every message exactly once and in order, whatever the arrival order and duplication', () => {
    // A deterministic shuffle of 1..300 with every message twice, plus history pages for the gaps.
    let state = 7;
    const rand = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const arrivals = [...range(1, 300), ...range(1, 300)].sort(() => rand() - 0.5);
    const c = new ChannelCursors([{ channel_id: 'c1', seq: 0 }]);
    const delivered: number[] = [];
    for (const [i, seq] of arrivals.entries()) {
      delivered.push(...seqs(c.receive(msg(seq))));
      if (i % 50 === 0 && c.hasGap('c1')) {
        const from = c.get('c1')!;
        delivered.push(
          ...seqs(
            c.applyHistory(
              'c1',
              range(from + 1, Math.min(300, from + 20)).map((s) => msg(s)),
              c.mark(),
            ),
          ),
        );
      }
    }
    expect(delivered).toEqual(range(1, 300));
  });
});

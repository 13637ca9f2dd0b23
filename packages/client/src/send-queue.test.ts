import { describe, expect, it } from 'vitest';
import { SendQueue, type QueuedOp } from './send-queue.js';

function op(ref: string, resendable = true): QueuedOp & { settled: string[] } {
  const settled: string[] = [];
  return {
    ref,
    frame: { op: 'message.send', ref },
    resendable,
    sent: false,
    settled,
    resolve: () => settled.push('resolved'),
    reject: () => settled.push('rejected'),
  };
}

/** Sends everything unsent, as the client's pump does; returns the refs in order. */
function flush(queue: SendQueue): string[] {
  const out: string[] = [];
  for (let next = queue.nextUnsent(); next; next = queue.nextUnsent()) {
    next.sent = true;
    out.push(next.ref);
  }
  return out;
}

describe('SendQueue', () => {
  it('sends in the order asked and forgets an op once answered', () => {
    const queue = new SendQueue();
    for (const ref of ['a', 'b', 'c']) queue.add(op(ref));
    expect(flush(queue)).toEqual(['a', 'b', 'c']);
    expect(queue.take('b')?.ref).toBe('b');
    expect(queue.take('b')).toBeUndefined();
    expect(queue.size).toBe(2);
  });

  it('puts control frames at the front', () => {
    const queue = new SendQueue();
    queue.add(op('m1'));
    queue.add(op('m2'));
    queue.add(op('refresh', false), true);
    expect(flush(queue)).toEqual(['refresh', 'm1', 'm2']);
  });

  it('after a lost connection, resends what may be repeated, in the original order, and gives back the rest', () => {
    const queue = new SendQueue();
    const a = op('a');
    const edit = op('edit', false);
    const b = op('b');
    for (const o of [a, edit, b]) queue.add(o);
    flush(queue);
    queue.add(op('offline')); // asked while disconnected: never sent
    queue.take('a'); // answered before the close

    const lost = queue.connectionLost();
    expect(lost.map((o) => o.ref)).toEqual(['edit']);
    expect(flush(queue)).toEqual(['b', 'offline']);
    expect(queue.size).toBe(2);
  });

  it('keeps an unsent edit across a lost connection: only frames in flight are in doubt', () => {
    const queue = new SendQueue();
    queue.add(op('edit', false));
    expect(queue.connectionLost()).toEqual([]);
    expect(flush(queue)).toEqual(['edit']);
  });

  it('sends a rate-limited frame again', () => {
    const queue = new SendQueue();
    queue.add(op('a'));
    queue.add(op('b'));
    flush(queue);
    queue.unsend('a');
    expect(flush(queue)).toEqual(['a']);
  });

  it('clears everything when the client stops', () => {
    const queue = new SendQueue();
    queue.add(op('a'));
    queue.add(op('b'));
    expect(queue.clear().map((o) => o.ref)).toEqual(['a', 'b']);
    expect(queue.size).toBe(0);
    expect(queue.nextUnsent()).toBeUndefined();
  });
});

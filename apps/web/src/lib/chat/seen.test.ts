import { describe, expect, it } from 'vitest';
import { seenAt } from './seen';

describe('seenAt', () => {
  const shown = [
    { id: 'a', seq: 1, senderId: 'ada' },
    { id: 'b', seq: 2, senderId: 'grace' },
    { id: 'c', seq: 4, senderId: 'ada' },
  ];

  it('puts each reader under the last message at or below their mark', () => {
    const at = seenAt(
      shown,
      new Map([
        ['grace', 4],
        ['alan', 3],
      ]),
    );
    expect(at.get('c')).toEqual(['grace']);
    // Seq 3 is not on screen (a thread reply, say): the message before it.
    expect(at.get('b')).toEqual(['alan']);
  });

  it('never counts a reader’s own message as seen by them', () => {
    const at = seenAt(shown, new Map([['grace', 2]]));
    expect([...at]).toEqual([['a', ['grace']]]);
  });

  it('leaves out readers who have read nothing on screen', () => {
    expect(seenAt(shown, new Map([['alan', 0]])).size).toBe(0);
  });
});

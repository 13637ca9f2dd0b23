import { afterEach, expect, it } from 'vitest';
import type { GatewayState, PresenceStatus, PublicPresence } from './gateway-state.js';

const T0 = 1_700_000_000_000;
/** The product's timings: sockets are dead after 45 s without a heartbeat; typing every 3 s. */
const TTL = 45_000;
const TYPING = 3000;
const MAX = 8;

/**
 * The behaviour every gateway state must have. `pair` returns two states that share their
 * data, as two server processes would (for the in-memory state, the same instance twice; for
 * Redis, two instances on two connections under one fresh key prefix). The contract closes
 * them after each test; anything else (Redis keys, connections) is the caller's to clean up.
 */
export function gatewayStateContract(pair: () => Promise<[GatewayState, GatewayState]>): void {
  const opened: GatewayState[] = [];
  const open = async (): Promise<[GatewayState, GatewayState]> => {
    const states = await pair();
    opened.push(...states);
    return states;
  };
  afterEach(async () => {
    await Promise.all([...new Set(opened.splice(0))].map((s) => s.close()));
  });
  const presenceOf = async (state: GatewayState, userId: string, nowMs = T0): Promise<PublicPresence> =>
    (await state.publicPresence([userId], nowMs)).get(userId)!;

  it('accepts up to max sockets, refuses the next, and accepts again once one is removed', async () => {
    const [state] = await open();
    for (let i = 1; i <= 3; i++) {
      expect(await state.addSocket('u', `s${i}`, 3, TTL, T0)).toEqual({
        accepted: true,
        firstSocket: i === 1,
        count: i,
      });
    }
    expect(await state.addSocket('u', 's4', 3, TTL, T0)).toEqual({ accepted: false, firstSocket: false, count: 3 });
    expect(await state.socketCount('u', T0)).toBe(3);
    expect(await state.removeSocket('u', 's2', T0 + 1)).toEqual({ lastSocket: false, count: 2 });
    expect(await state.addSocket('u', 's4', 3, TTL, T0 + 2)).toEqual({ accepted: true, firstSocket: false, count: 3 });
    expect((await state.addSocket('u', 's5', 3, TTL, T0 + 3)).accepted).toBe(false);
    // The limit is per user.
    expect(await state.addSocket('v', 's1', 3, TTL, T0 + 3)).toEqual({ accepted: true, firstSocket: true, count: 1 });
  });

  it('accepts again once a socket expires', async () => {
    const [state] = await open();
    await state.addSocket('u', 'old', 2, TTL, T0);
    await state.addSocket('u', 'new', 2, TTL, T0 + 10_000);
    expect((await state.addSocket('u', 'extra', 2, TTL, T0 + TTL - 1)).accepted).toBe(false);
    // 'old' expires at exactly T0 + TTL.
    expect(await state.addSocket('u', 'extra', 2, TTL, T0 + TTL)).toEqual({
      accepted: true,
      firstSocket: false,
      count: 2,
    });
  });

  it('reports the first and the last socket of a user (online / offline transitions)', async () => {
    const [state] = await open();
    expect(await state.addSocket('u', 'a', MAX, TTL, T0)).toEqual({ accepted: true, firstSocket: true, count: 1 });
    expect(await state.addSocket('u', 'b', MAX, TTL, T0)).toEqual({ accepted: true, firstSocket: false, count: 2 });
    expect(await state.removeSocket('u', 'a', T0)).toEqual({ lastSocket: false, count: 1 });
    expect(await state.removeSocket('u', 'b', T0)).toEqual({ lastSocket: true, count: 0 });
    expect(await state.socketCount('u', T0)).toBe(0);
    // Back online.
    expect(await state.addSocket('u', 'c', MAX, TTL, T0 + 1)).toEqual({ accepted: true, firstSocket: true, count: 1 });
  });

  it('counts a socket id once: adding a live socket again only refreshes it, also at the limit', async () => {
    const [state] = await open();
    await state.addSocket('u', 'a', 2, TTL, T0);
    await state.addSocket('u', 'b', 2, TTL, T0);
    expect(await state.addSocket('u', 'a', 2, TTL, T0 + 40_000)).toEqual({
      accepted: true,
      firstSocket: false,
      count: 2,
    });
    // 'b' expired, 'a' was refreshed by the second add.
    expect(await state.socketCount('u', T0 + TTL)).toBe(1);
    expect(await state.socketCount('u', T0 + 40_000 + TTL)).toBe(0);
  });

  it('expires a socket that is not refreshed within ttl, and keeps a refreshed one', async () => {
    const [state] = await open();
    await state.addSocket('u', 'quiet', MAX, TTL, T0);
    await state.addSocket('u', 'beating', MAX, TTL, T0);
    await state.refreshSocket('u', 'beating', TTL, T0 + 15_000);
    await state.refreshSocket('u', 'beating', TTL, T0 + 30_000);
    expect(await state.socketCount('u', T0 + TTL - 1)).toBe(2);
    expect(await state.socketCount('u', T0 + TTL)).toBe(1);
    expect(await state.socketCount('u', T0 + 30_000 + TTL - 1)).toBe(1);
    expect(await state.socketCount('u', T0 + 30_000 + TTL)).toBe(0);
    expect(await presenceOf(state, 'u', T0 + 30_000 + TTL)).toBe('offline');
    // Everything expired: the next socket is the first again.
    expect(await state.addSocket('u', 'back', MAX, TTL, T0 + 100_000)).toEqual({
      accepted: true,
      firstSocket: true,
      count: 1,
    });
  });

  it('does not bring back a removed or expired socket on a late heartbeat', async () => {
    const [state] = await open();
    await state.addSocket('u', 'gone', MAX, TTL, T0);
    await state.removeSocket('u', 'gone', T0 + 1);
    await state.refreshSocket('u', 'gone', TTL, T0 + 2);
    expect(await state.socketCount('u', T0 + 2)).toBe(0);

    await state.addSocket('u', 'stalled', MAX, TTL, T0 + 10);
    await state.refreshSocket('u', 'stalled', TTL, T0 + 10 + TTL);
    expect(await state.socketCount('u', T0 + 10 + TTL)).toBe(0);
    await state.refreshSocket('x', 'never-added', TTL, T0 + 20);
    expect(await state.socketCount('x', T0 + 20)).toBe(0);
  });

  it('reports no socket left also when removing an unknown or already removed socket', async () => {
    const [state] = await open();
    await state.addSocket('u', 'a', MAX, TTL, T0);
    expect(await state.removeSocket('u', 'unknown', T0)).toEqual({ lastSocket: false, count: 1 });
    expect(await state.removeSocket('u', 'a', T0)).toEqual({ lastSocket: true, count: 0 });
    // Repeating the offline signal is harmless; losing it (e.g. after expiry) would not be.
    expect(await state.removeSocket('u', 'a', T0)).toEqual({ lastSocket: true, count: 0 });
    await state.addSocket('w', 'expired', MAX, TTL, T0);
    expect(await state.removeSocket('w', 'expired', T0 + TTL + 1)).toEqual({ lastSocket: true, count: 0 });
  });

  it('shares sockets between two processes, and the limit holds across them', async () => {
    const [a, b] = await open();
    expect(await a.addSocket('u', 'a1', 3, TTL, T0)).toEqual({ accepted: true, firstSocket: true, count: 1 });
    expect(await b.addSocket('u', 'b1', 3, TTL, T0)).toEqual({ accepted: true, firstSocket: false, count: 2 });
    expect(await a.socketCount('u', T0)).toBe(2);
    expect(await b.socketCount('u', T0)).toBe(2);
    expect((await b.addSocket('u', 'b2', 3, TTL, T0)).accepted).toBe(true);
    expect(await a.addSocket('u', 'a2', 3, TTL, T0)).toEqual({ accepted: false, firstSocket: false, count: 3 });
    expect((await b.addSocket('u', 'b3', 3, TTL, T0)).accepted).toBe(false);
    expect(await a.publicPresence(['u'], T0)).toEqual(new Map([['u', 'online']]));

    // b's process crashes: its sockets stop being refreshed and expire, a's stay.
    await a.refreshSocket('u', 'a1', TTL, T0 + 30_000);
    expect(await a.socketCount('u', T0 + TTL)).toBe(1);
    expect(await a.addSocket('u', 'a2', 3, TTL, T0 + TTL)).toEqual({ accepted: true, firstSocket: false, count: 2 });
    // Whoever removes the last socket sees the user go offline.
    expect(await a.removeSocket('u', 'a1', T0 + TTL)).toEqual({ lastSocket: false, count: 1 });
    expect(await b.removeSocket('u', 'a2', T0 + TTL)).toEqual({ lastSocket: true, count: 0 });
    expect(await presenceOf(a, 'u', T0 + TTL)).toBe('offline');
  });

  it('accepts exactly max of 20 concurrent connections from two processes', async () => {
    const [a, b] = await open();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).addSocket('u', `s${i}`, MAX, TTL, T0)),
    );
    const accepted = results.filter((r) => r.accepted);
    expect(accepted).toHaveLength(MAX);
    expect(accepted.filter((r) => r.firstSocket)).toHaveLength(1);
    // Each accepted add saw a different count: none was lost or double counted.
    expect(accepted.map((r) => r.count).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(results.filter((r) => !r.accepted).every((r) => r.count === MAX && !r.firstSocket)).toBe(true);
    expect(await a.socketCount('u', T0)).toBe(MAX);
    expect(await b.socketCount('u', T0)).toBe(MAX);

    // Concurrent removals of the accepted sockets: exactly one of them sees the user go offline.
    const acceptedIds = results.flatMap((r, i) => (r.accepted ? [`s${i}`] : []));
    const removed = await Promise.all(
      acceptedIds.map((socketId, i) => (i % 2 === 0 ? b : a).removeSocket('u', socketId, T0)),
    );
    expect(removed.map((r) => r.count).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(removed.filter((r) => r.lastSocket)).toHaveLength(1);
    expect(await a.socketCount('u', T0)).toBe(0);
  });

  it('shows the chosen status to others, offline without sockets', async () => {
    const [a, b] = await open();
    const statuses: PresenceStatus[] = ['online', 'idle', 'dnd'];
    for (const [i, status] of statuses.entries()) {
      await a.setStatus(`u${i}`, status);
      await a.addSocket(`u${i}`, 's', MAX, TTL, T0);
    }
    await b.setStatus('no-socket', 'dnd');
    expect(await b.publicPresence(['u0', 'u1', 'u2', 'no-socket', 'never-seen'], T0)).toEqual(
      new Map([
        ['u0', 'online'],
        ['u1', 'idle'],
        ['u2', 'dnd'],
        ['no-socket', 'offline'],
        ['never-seen', 'offline'],
      ]),
    );
    // A user who never chose a status is online while connected.
    await b.addSocket('default', 's', MAX, TTL, T0);
    expect(await presenceOf(a, 'default')).toBe('online');
    // One entry per distinct id; nothing asked, nothing answered.
    expect(await a.publicPresence(['u1', 'u1'], T0)).toEqual(new Map([['u1', 'idle']]));
    expect(await a.publicPresence([], T0)).toEqual(new Map());
  });

  it('never shows an invisible user as online, whatever their sockets', async () => {
    const [a, b] = await open();
    await a.setStatus('ghost', 'invisible');
    await a.addSocket('ghost', 's1', MAX, TTL, T0);
    await b.addSocket('ghost', 's2', MAX, TTL, T0);
    expect(await presenceOf(a, 'ghost')).toBe('offline');
    expect(await presenceOf(b, 'ghost')).toBe('offline');
    // Becoming invisible while connected hides the user at once, on every process.
    await b.addSocket('shy', 's', MAX, TTL, T0);
    expect(await presenceOf(a, 'shy')).toBe('online');
    await b.setStatus('shy', 'invisible');
    expect(await presenceOf(a, 'shy')).toBe('offline');
    await a.setStatus('shy', 'online');
    expect(await presenceOf(b, 'shy')).toBe('online');
  });

  it('keeps the chosen status across a reconnect (and while offline)', async () => {
    const [a, b] = await open();
    await a.addSocket('u', 's1', MAX, TTL, T0);
    await a.setStatus('u', 'dnd');
    await a.removeSocket('u', 's1', T0 + 1);
    expect(await presenceOf(b, 'u', T0 + 1)).toBe('offline');
    await b.addSocket('u', 's2', MAX, TTL, T0 + 2);
    expect(await presenceOf(a, 'u', T0 + 2)).toBe('dnd');

    // Chosen while offline, shown on the next connection; also after the sockets expired.
    await b.setStatus('v', 'invisible');
    await a.addSocket('v', 's', MAX, TTL, T0);
    expect(await presenceOf(a, 'v')).toBe('offline');
    await a.setStatus('v', 'idle');
    expect(await presenceOf(b, 'v', T0 + TTL)).toBe('offline');
    await b.addSocket('v', 's', MAX, TTL, T0 + 10 * TTL);
    expect(await presenceOf(a, 'v', T0 + 10 * TTL)).toBe('idle');
  });

  it('refuses a status that is not one', async () => {
    const [state] = await open();
    await expect(state.setStatus('u', 'offline' as PresenceStatus)).rejects.toThrow(RangeError);
    await expect(state.setStatus('u', 'busy' as PresenceStatus)).rejects.toThrow(RangeError);
  });

  it('throttles typing to one announcement per interval', async () => {
    const [a, b] = await open();
    expect(await a.tryTyping('c', 'u', TYPING, T0)).toBe(true);
    expect(await a.tryTyping('c', 'u', TYPING, T0)).toBe(false);
    expect(await b.tryTyping('c', 'u', TYPING, T0 + 1)).toBe(false);
    expect(await b.tryTyping('c', 'u', TYPING, T0 + TYPING - 1)).toBe(false);
    expect(await b.tryTyping('c', 'u', TYPING, T0 + TYPING)).toBe(true);
    // The interval runs from the last accepted announcement, not from the refused ones.
    expect(await a.tryTyping('c', 'u', TYPING, T0 + 2 * TYPING - 1)).toBe(false);
    expect(await a.tryTyping('c', 'u', TYPING, T0 + 2 * TYPING)).toBe(true);
  });

  it('throttles typing per channel and user', async () => {
    const [a, b] = await open();
    expect(await a.tryTyping('c1', 'u1', TYPING, T0)).toBe(true);
    expect(await b.tryTyping('c1', 'u2', TYPING, T0)).toBe(true);
    expect(await a.tryTyping('c2', 'u1', TYPING, T0)).toBe(true);
    expect(await b.tryTyping('c1', 'u1', TYPING, T0)).toBe(false);
    expect(await a.tryTyping('c2', 'u2', TYPING, T0)).toBe(true);
    // Ids are opaque: separators cannot make two pairs collide.
    expect(await a.tryTyping('x:y', 'z', TYPING, T0)).toBe(true);
    expect(await a.tryTyping('x', 'y:z', TYPING, T0)).toBe(true);
    expect(await a.tryTyping('x:y', 'z', TYPING, T0)).toBe(false);
  });

  it('accepts exactly one of concurrent typing announcements from two processes', async () => {
    const [a, b] = await open();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).tryTyping('c', 'u', TYPING, T0)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('does not accept typing from a clock behind the last accepted announcement', async () => {
    const [a, b] = await open();
    expect(await a.tryTyping('c', 'u', TYPING, T0 + 1000)).toBe(true);
    expect(await b.tryTyping('c', 'u', TYPING, T0)).toBe(false);
    expect(await b.tryTyping('c', 'u', TYPING, T0 + 1000 + TYPING)).toBe(true);
  });

  it('treats ids with separators, braces and unicode as distinct opaque strings', async () => {
    const [state] = await open();
    for (const userId of ['a:b', 'a', 'a:b:c', '{a}', 'ä', '']) {
      expect((await state.addSocket(userId, 's', MAX, TTL, T0)).firstSocket).toBe(true);
    }
    await state.setStatus('{a}', 'dnd');
    expect(await state.publicPresence(['a', '{a}', 'ä', 'b'], T0)).toEqual(
      new Map([
        ['a', 'online'],
        ['{a}', 'dnd'],
        ['ä', 'online'],
        ['b', 'offline'],
      ]),
    );
  });

  it('rejects nonsensical arguments', async () => {
    const [state] = await open();
    await expect(state.addSocket('u', 's', 0, TTL, T0)).rejects.toThrow(RangeError);
    await expect(state.addSocket('u', 's', 1.5, TTL, T0)).rejects.toThrow(RangeError);
    await expect(state.addSocket('u', 's', MAX, 0, T0)).rejects.toThrow(RangeError);
    await expect(state.addSocket('u', 's', MAX, TTL, Number.NaN)).rejects.toThrow(RangeError);
    await expect(state.refreshSocket('u', 's', -1, T0)).rejects.toThrow(RangeError);
    await expect(state.tryTyping('c', 'u', 0, T0)).rejects.toThrow(RangeError);
    await expect(state.tryTyping('c', 'u', Number.POSITIVE_INFINITY, T0)).rejects.toThrow(RangeError);
    expect(await state.socketCount('u', T0)).toBe(0);
  });

  it('refuses work once closed', async () => {
    const [state] = await open();
    await state.close();
    await expect(state.addSocket('u', 's', MAX, TTL, T0)).rejects.toThrow(/closed/);
    await expect(state.publicPresence(['u'], T0)).rejects.toThrow(/closed/);
    await expect(state.tryTyping('c', 'u', TYPING, T0)).rejects.toThrow(/closed/);
  });
}

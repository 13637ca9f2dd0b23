import { GATEWAY } from '@chatalot/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listen, received as hasReceived, sendMessages, storedMessages } from '../test-support/gateway-load.js';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { type Frame, TestSocket } from '../test-support/ws-client.js';

type UserName = keyof SpacesWorld['users'];

/** Seqs and ids of the `message.created` frames a socket got for a channel, in arrival order. */
const received = (socket: TestSocket, channelId: string) =>
  socket.messages(channelId).map((f) => ({ seq: f.seq as number, id: (f.message as { id: string }).id, f }));

describe.each(DIALECTS)('Gateway resume on %s', (dialect) => {
  let t: TestApp;
  let url: string;
  let open: TestSocket[] = [];

  const connect = async (world: SpacesWorld, user: UserName, resume?: { channel_id: string; seq: number }[]) => {
    const socket = await TestSocket.signedIn(url, world.users[user].auth.authorization, resume);
    open.push(socket);
    return socket;
  };
  /** `perUser` sockets for each of the users, to spread a burst over many token buckets. */
  const senders = async (world: SpacesWorld, users: UserName[], perUser: number) => {
    const all: TestSocket[] = [];
    for (const user of users) for (let i = 0; i < perUser; i++) all.push(await connect(world, user));
    return all;
  };

  /** The channel's latest seq, from the database (worlds start with a message per channel). */
  const lastSeq = async (channelId: string) => {
    const stored = await storedMessages(t, channelId);
    return stored.at(-1)?.seq ?? 0;
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    url = (await listen(t)).wsUrl;
  });
  afterEach(async () => {
    for (const socket of open) socket.ws.terminate();
    await Promise.all(open.map((s) => s.closed));
    open = [];
  });
  afterAll(async () => {
    await t.close();
  });

  it('a client cut off mid-burst resumes with exactly the stored messages, in order, once', async () => {
    const world = await buildSpacesWorld(t, 'cut');
    const channel = world.a.publicChannel;
    const total = 1000;
    const burst = await senders(world, ['groupMember', 'moderator', 'admin'], 6);
    const base = await lastSeq(channel);
    const client = await connect(world, 'member');

    // Cut the client off abruptly (no close handshake) once it has seen some of the burst; the
    // rest of the burst starts as it reconnects, so replay and live delivery overlap.
    const cutAfter = 200;
    let seen = 0;
    client.ws.on('message', (data: Buffer) => {
      if (!data.toString('latin1', 0, 32).startsWith('{"type":"message.created"')) return;
      if (++seen === cutAfter) client.ws.terminate();
    });
    const firstPart = sendMessages(burst, channel, 600, { tag: 'cut-a' });

    await client.closed;
    const before = received(client, channel);
    expect(before.length).toBeGreaterThanOrEqual(cutAfter);
    expect(before.map((m) => m.seq)).toEqual(before.map((_, i) => base + 1 + i));
    const lastSeen = before.at(-1)!.seq;
    expect(lastSeen).toBeLessThan(base + total);

    // Reconnect with the last seq seen while the others keep sending.
    const secondPart = sendMessages(burst, channel, 400, { tag: 'cut-b' });
    const back = await connect(world, 'member', [{ channel_id: channel, seq: lastSeen }]);
    const sent = Promise.all([firstPart, secondPart]).then(([a, b]) => [...a, ...b]);
    const acks = await sent;
    const latest = Math.max(...acks.map((a) => a.seq));
    expect(latest).toBe(base + total);
    await hasReceived(back, (f) => f.type === 'message.created' && f.channel_id === channel && f.seq === latest);
    await hasReceived(back, (f) => f.type === 'resumed');

    const after = received(back, channel);
    const clientView = [...before, ...after];
    const stored = (await storedMessages(t, channel)).filter((m) => m.seq > base);
    expect(stored).toHaveLength(total);
    expect(clientView.map((m) => ({ id: m.id, seq: m.seq }))).toEqual(stored);
    expect(new Set(clientView.map((m) => m.id)).size).toBe(total);
    expect(new Set(acks.map((a) => a.id))).toEqual(new Set(stored.map((m) => m.id)));

    // What the resume replayed came first and all of it before `resumed`; live events after.
    const frames = back.frames;
    const resumedAt = frames.findIndex((f) => f.type === 'resumed');
    const replayed = frames.flatMap((f, i) => (f.type === 'message.created' && f.replay === true ? [i] : []));
    if (replayed.length > 0) expect(Math.max(...replayed)).toBeLessThan(resumedAt);
    const firstLive = frames.findIndex((f) => f.type === 'message.created' && f.replay !== true);
    if (firstLive >= 0 && replayed.length > 0) expect(firstLive).toBeGreaterThan(Math.max(...replayed));
  });

  it('a client more than 1,000 behind gets resume.gap, then live messages; exactly 1,000 behind replays', async () => {
    const world = await buildSpacesWorld(t, 'gap');
    const channel = world.a.publicChannel;
    const burst = await senders(world, ['moderator', 'admin', 'owner'], 6);
    await sendMessages(burst.slice(0, 1), channel, 2, { tag: 'first' });
    // One client went away at `far`, the other one message later, at `near`; then 1,000 more
    // messages came: the first is 1,001 behind, the second exactly 1,000.
    const near = await lastSeq(channel);
    const far = near - 1;
    const missed = await sendMessages(burst, channel, GATEWAY.resumeWindow, { tag: 'missed' });
    const latest = Math.max(...missed.map((m) => m.seq));
    expect(latest).toBe(near + GATEWAY.resumeWindow);

    const behind = await connect(world, 'member', [{ channel_id: channel, seq: far }]);
    const within = await connect(world, 'groupMember', [{ channel_id: channel, seq: near }]);

    const gap = await behind.next((f) => f.type === 'resume.gap');
    expect(gap).toEqual({ type: 'resume.gap', channel_id: channel, seq: far });
    await behind.next((f) => f.type === 'resumed');
    expect(behind.messages(channel)).toEqual([]);

    await hasReceived(within, (f) => f.type === 'resumed');
    expect(within.frames.some((f) => f.type === 'resume.gap')).toBe(false);
    const replayed = received(within, channel);
    const stored = await storedMessages(t, channel);
    expect(replayed.map((m) => ({ id: m.id, seq: m.seq }))).toEqual(stored.filter((m) => m.seq > near));
    expect(replayed).toHaveLength(GATEWAY.resumeWindow);
    expect(replayed.every((m) => m.f.replay === true)).toBe(true);

    // Live delivery carries on from the latest seq for both.
    const live = await sendMessages(burst.slice(0, 3), channel, 5, { tag: 'live' });
    const liveSeqs = live.map((m) => m.seq).sort((a, b) => a - b);
    expect(liveSeqs).toEqual(Array.from({ length: 5 }, (_, i) => latest + 1 + i));
    for (const socket of [behind, within]) {
      await hasReceived(socket, (f) => f.type === 'message.created' && f.seq === latest + 5);
    }
    expect(received(behind, channel).map((m) => m.seq)).toEqual(liveSeqs);
    expect(received(within, channel).map((m) => m.seq)).toEqual([...replayed.map((m) => m.seq), ...liveSeqs]);

    // The `resume` op past the window says the same, and replays nothing.
    const answer = await behind.request({ op: 'resume', channels: [{ channel_id: channel, seq: 0 }] });
    expect(answer).toMatchObject({ type: 'ack', op: 'resume' });
    expect(behind.frames.filter((f) => f.type === 'resume.gap').at(-1)).toEqual({
      type: 'resume.gap',
      channel_id: channel,
      seq: 0,
    });
    expect(received(behind, channel).map((m) => m.seq)).toEqual(liveSeqs);
    const after = await sendMessages(burst.slice(0, 1), channel, 1, { tag: 'after' });
    await hasReceived(behind, (f) => f.type === 'message.created' && f.seq === after[0]!.seq);
    expect(received(behind, channel).map((m) => m.seq)).toEqual([...liveSeqs, latest + 6]);
  });

  it('the resume op on an open socket replays from the cursor, in order, while live messages keep coming', async () => {
    const world = await buildSpacesWorld(t, 'op');
    const channel = world.a.publicChannel;
    const burst = await senders(world, ['groupMember', 'moderator', 'admin'], 4);
    const client = await connect(world, 'member');
    const warm = await sendMessages(burst, channel, 60, { tag: 'warm' });
    const warmLast = Math.max(...warm.map((m) => m.seq));
    await hasReceived(client, (f) => f.type === 'message.created' && f.seq === warmLast);
    const cursor = warmLast - 40;

    // A second burst is under way when the client asks to resume from 40 messages back.
    let acked = 0;
    let resumeAt = -1;
    const resumeRef = 'resume-during-burst';
    const during = await sendMessages(burst, channel, 300, {
      tag: 'during',
      onAck: () => {
        if (++acked !== 100) return;
        resumeAt = client.frames.length;
        client.send({
          op: 'resume',
          ref: resumeRef,
          channels: [
            { channel_id: channel, seq: cursor },
            // Channels the socket does not listen to are ignored.
            { channel_id: world.a.privateChannel, seq: 0 },
            { channel_id: 'no-such-channel', seq: 0 },
          ],
        });
      },
    });
    const latest = Math.max(...during.map((m) => m.seq));
    const ack = await hasReceived(client, (f) => f.ref === resumeRef);
    expect(ack).toMatchObject({ type: 'ack', op: 'resume', data: null });
    await hasReceived(client, (f) => f.type === 'message.created' && f.seq === latest);

    const stored = (await storedMessages(t, channel)).filter((m) => m.seq > cursor);
    expect(stored.at(-1)!.seq).toBe(latest);
    const afterRequest = client.frames.slice(resumeAt);
    const firstReplay = afterRequest.findIndex((f) => f.type === 'message.created' && f.replay === true);
    expect(firstReplay).toBeGreaterThanOrEqual(0);
    const fromReplay = afterRequest
      .slice(firstReplay)
      .filter((f): f is Frame & { seq: number } => f.type === 'message.created' && f.channel_id === channel);
    // From the first replayed message on: every stored message after the cursor, in order, once.
    expect(fromReplay.map((f) => ({ id: (f.message as { id: string }).id, seq: f.seq }))).toEqual(stored);
    // The replay was complete before the ack.
    const ackIndex = afterRequest.findIndex((f) => f.ref === resumeRef);
    const lastReplay = afterRequest.findLastIndex((f) => f.type === 'message.created' && f.replay === true);
    expect(lastReplay).toBeLessThan(ackIndex);
    expect(client.frames.filter((f) => f.type === 'resume.gap')).toEqual([]);
  });
  it('the resume op takes one cursor per channel, and a cursor ahead of the channel does not silence it', async () => {
    const world = await buildSpacesWorld(t, 'odd');
    const channel = world.a.publicChannel;
    const burst = await senders(world, ['groupMember', 'moderator'], 3);
    const client = await connect(world, 'member');
    const warm = await sendMessages(burst, channel, 30, { tag: 'warm' });
    const latest = Math.max(...warm.map((m) => m.seq));
    await hasReceived(client, (f) => f.type === 'message.created' && f.seq === latest);

    // The same channel twice: the last cursor counts (as in the auth frame), replayed once.
    const from = client.frames.length;
    const twice = await client.request({
      op: 'resume',
      channels: [
        { channel_id: channel, seq: latest - 5 },
        { channel_id: channel, seq: latest - 12 },
      ],
    });
    expect(twice).toMatchObject({ type: 'ack', op: 'resume' });
    const replayed = client.frames
      .slice(from)
      .filter((f) => f.type === 'message.created' && f.channel_id === channel)
      .map((f) => f.seq as number);
    expect(replayed).toEqual(Array.from({ length: 12 }, (_, i) => latest - 11 + i));

    // A cursor past the channel's last message (a server restored from a backup, a confused
    // client): nothing to replay, and live messages keep coming.
    const ahead = await client.request({ op: 'resume', channels: [{ channel_id: channel, seq: latest + 1_000_000 }] });
    expect(ahead).toMatchObject({ type: 'ack', op: 'resume' });
    const live = await sendMessages(burst, channel, 3, { tag: 'live' });
    for (const m of live) await hasReceived(client, (f) => f.type === 'message.created' && f.seq === m.seq);
  });
});

// The runtime floor for the gateway: a minimal broadcast server on the same `ws` package and
// settings as Chatalot's gateway (no compression, 256 KiB frames), speaking the same frames
// with no database, validation library, permissions or broker. A trivial auth frame (the token
// `member:<id>[:<room>,<room>…]` says which rooms the socket is in, room-1 when none are
// named; `loner:<id>` is in none), `message.send` → one `message.created` event (the same
// fields as Chatalot's, encoded once) to every socket in the room, then an `ack`. `typing`
// (at most one per user and room per 3 s, as the gateway) → a `typing` event to the room;
// `presence.set` → a `presence` event to every socket sharing a room with the user.
// Heartbeat pings every 15 s like the gateway. Run as a child process; prints its URL.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';

const DEFAULT_ROOM = 'room-1';
const MAX_BUFFERED = 1024 * 1024;
const TYPING_INTERVAL_MS = 3000;
const STATUSES = new Set<unknown>(['online', 'idle', 'dnd', 'invisible']);
const rooms = new Map<string, { seq: number; sockets: Set<WebSocket> }>();
/** When each user last announced typing in each room (`room user`). */
const typingAt = new Map<string, number>();

function roomOf(id: string) {
  let room = rooms.get(id);
  if (!room) {
    room = { seq: 0, sockets: new Set() };
    rooms.set(id, room);
  }
  return room;
}

function broadcast(sockets: Iterable<WebSocket>, raw: string): void {
  for (const peer of sockets) {
    if (peer.readyState !== WebSocket.OPEN) continue;
    if (peer.bufferedAmount > MAX_BUFFERED) peer.close(4008, 'Too much unsent data');
    else peer.send(raw);
  }
}

const server = createServer((_req, res) => {
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 256 * 1024, perMessageDeflate: false });

interface Frame {
  op?: unknown;
  ref?: unknown;
  token?: unknown;
  channel_id?: unknown;
  nonce?: unknown;
  ciphertext?: unknown;
  encryption?: unknown;
  status?: unknown;
}

wss.on('connection', (ws) => {
  let userId: string | null = null;
  let joined: string[] = [];
  const send = (text: string) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(text);
  };
  const error = (ref: unknown, op: unknown, code: string) =>
    send(JSON.stringify({ type: 'error', ref: ref ?? null, op: op ?? null, code, message: code }));

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    let frame: Frame;
    try {
      if (isBinary) throw new Error('binary');
      frame = JSON.parse(data.toString('utf8')) as Frame;
    } catch {
      error(null, null, 'invalid_json');
      return;
    }
    if (userId === null) {
      const [kind, id, list] = typeof frame.token === 'string' ? frame.token.split(':') : [];
      if (frame.op !== 'auth' || !id || (kind !== 'member' && kind !== 'loner')) {
        error(frame.ref, frame.op, 'unauthorized');
        ws.close(4001, 'Authentication failed');
        return;
      }
      userId = id;
      if (kind === 'member') joined = list ? list.split(',') : [DEFAULT_ROOM];
      for (const r of joined) roomOf(r).sockets.add(ws);
      const channels = joined.map((r) => ({ channel_id: r, last_seq: roomOf(r).seq }));
      send(JSON.stringify({ type: 'ready', user_id: id, session_id: id, heartbeat_ms: 15_000, channels }));
      return;
    }
    if (frame.op === 'typing' || frame.op === 'presence.set') {
      presenceOp(frame);
      return;
    }
    if (frame.op !== 'message.send') {
      error(frame.ref, frame.op, 'unknown_op');
      return;
    }
    const room = typeof frame.channel_id === 'string' ? rooms.get(frame.channel_id) : undefined;
    if (!room || !room.sockets.has(ws) || typeof frame.nonce !== 'string' || typeof frame.ciphertext !== 'string') {
      error(frame.ref, frame.op, 'validation_error');
      return;
    }
    const channelId = frame.channel_id as string;
    const seq = ++room.seq;
    const id = randomUUID();
    const now = Date.now();
    const raw = JSON.stringify({
      type: 'message.created',
      seq,
      message: {
        id,
        channel_id: channelId,
        seq,
        sender_id: userId,
        nonce: frame.nonce,
        ciphertext: frame.ciphertext,
        encryption: frame.encryption,
        reply_to: null,
        thread_root: null,
        forwarded_from: null,
        mentions: [],
        mention_everyone: false,
        created_at: now,
        edited_at: null,
        deleted_at: null,
        expires_at: null,
        reactions: [],
        pinned: false,
      },
      channel_id: channelId,
    });
    broadcast(room.sockets, raw);
    send(
      JSON.stringify({
        type: 'ack',
        ref: frame.ref ?? null,
        op: 'message.send',
        data: { nonce: frame.nonce, id, channel_id: channelId, seq, created_at: now },
      }),
    );
  });

  /** `typing` to the room (throttled like the gateway), `presence.set` to everyone sharing a room. */
  function presenceOp(frame: Frame): void {
    if (frame.op === 'typing') {
      const room = typeof frame.channel_id === 'string' ? rooms.get(frame.channel_id) : undefined;
      if (!room || !room.sockets.has(ws)) return error(frame.ref, frame.op, 'validation_error');
      const key = `${frame.channel_id as string} ${userId}`;
      const now = Date.now();
      if (now - (typingAt.get(key) ?? 0) < TYPING_INTERVAL_MS) return;
      typingAt.set(key, now);
      const event = { type: 'typing', channel_id: frame.channel_id, user_id: userId, expires_in_ms: 10_000 };
      return broadcast(room.sockets, JSON.stringify(event));
    }
    if (!STATUSES.has(frame.status)) return error(frame.ref, frame.op, 'validation_error');
    const raw = JSON.stringify({ type: 'presence', user_id: userId, status: frame.status });
    const peers =
      joined.length === 1 ? roomOf(joined[0]!).sockets : new Set(joined.flatMap((r) => [...roomOf(r).sockets]));
    broadcast(peers.has(ws) ? peers : [...peers, ws], raw);
  }

  ws.on('close', () => {
    for (const r of joined) rooms.get(r)?.sockets.delete(ws);
  });
  ws.on('error', () => undefined);
});

const heartbeat = setInterval(() => {
  for (const ws of wss.clients) ws.ping();
}, 15_000);
heartbeat.unref();

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`is running at http://127.0.0.1:${address.port}\n`);
});
process.once('SIGTERM', () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  server.close(() => process.exit(0));
});

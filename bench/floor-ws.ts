// The runtime floor for the gateway: a minimal broadcast server on the same `ws` package and
// settings as Chatalot's gateway (no compression, 256 KiB frames), speaking the same frames
// with no database, validation library, permissions or broker. A trivial auth frame (the token
// says whether the socket is in the one room), `message.send` → one `message.created` event
// (the same fields as Chatalot's, encoded once) to every socket in the room, then an `ack`.
// Heartbeat pings every 15 s like the gateway. Run as a child process; prints its URL.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';

const ROOM = 'room-1';
const MAX_BUFFERED = 1024 * 1024;
let seq = 0;
const room = new Set<WebSocket>();

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
}

wss.on('connection', (ws) => {
  let userId: string | null = null;
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
      const [kind, id] = typeof frame.token === 'string' ? frame.token.split(':') : [];
      if (frame.op !== 'auth' || !id || (kind !== 'member' && kind !== 'loner')) {
        error(frame.ref, frame.op, 'unauthorized');
        ws.close(4001, 'Authentication failed');
        return;
      }
      userId = id;
      if (kind === 'member') room.add(ws);
      const channels = kind === 'member' ? [{ channel_id: ROOM, last_seq: seq }] : [];
      send(JSON.stringify({ type: 'ready', user_id: id, session_id: id, heartbeat_ms: 15_000, channels }));
      return;
    }
    if (frame.op !== 'message.send') {
      error(frame.ref, frame.op, 'unknown_op');
      return;
    }
    if (
      frame.channel_id !== ROOM ||
      !room.has(ws) ||
      typeof frame.nonce !== 'string' ||
      typeof frame.ciphertext !== 'string'
    ) {
      error(frame.ref, frame.op, 'validation_error');
      return;
    }
    seq++;
    const id = randomUUID();
    const now = Date.now();
    const raw = JSON.stringify({
      type: 'message.created',
      seq,
      message: {
        id,
        channel_id: ROOM,
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
      channel_id: ROOM,
    });
    for (const peer of room) {
      if (peer.readyState !== WebSocket.OPEN) continue;
      if (peer.bufferedAmount > MAX_BUFFERED) peer.close(4008, 'Too much unsent data');
      else peer.send(raw);
    }
    send(
      JSON.stringify({
        type: 'ack',
        ref: frame.ref ?? null,
        op: 'message.send',
        data: { nonce: frame.nonce, id, channel_id: ROOM, seq, created_at: now },
      }),
    );
  });
  ws.on('close', () => room.delete(ws));
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

// The load generator's side of the gateway protocol (packages/protocol/src/gateway.ts), which
// ws-floor speaks too: `auth` → `ready`, `message.send` → `ack`, `message.created` events.
// Frames are classified by their first bytes and the message index is read from the nonce
// without JSON.parse, so the generator spends as little CPU per delivery as possible.
import WebSocket from 'ws';
import type { BenchSocket } from '../targets/target.js';

/** Where a socket reports what it received. */
export interface FrameSink {
  /** A `message.created` event for the message with this index (from its nonce). */
  delivery(index: number, at: number): void;
  /** The sender's `ack` for the message with this index. */
  ack(index: number, at: number): void;
  /** An `error` frame (e.g. rate_limited). */
  error(code: string): void;
  /** A `typing` or `presence` event, by the user it is about. */
  event?(type: 'typing' | 'presence', userId: string, at: number): void;
}

export const IGNORE: FrameSink = { delivery: () => undefined, ack: () => undefined, error: () => undefined };

const prefix = (type: string) => Buffer.from(`{"type":"${type}"`);
const CREATED = prefix('message.created');
const ACK = prefix('ack');
const ERROR = prefix('error');
const READY = prefix('ready');
const TYPING = prefix('typing');
const PRESENCE = prefix('presence');
const USER_KEY = Buffer.from('"user_id":"');
const NONCE_KEY = Buffer.from('"nonce":"nonce-');

/** The nonce of the message with this index (unique per run, so per sender too; ≥ 8 characters). */
export const nonceOf = (index: number) => `nonce-${index}`;

function startsWith(data: Buffer, p: Buffer): boolean {
  return data.length >= p.length && data.compare(p, 0, p.length, 0, p.length) === 0;
}

function indexFromNonce(data: Buffer): number {
  const at = data.indexOf(NONCE_KEY);
  if (at < 0) return -1;
  let n = 0;
  let i = at + NONCE_KEY.length;
  for (let c = data[i]; c !== undefined && c >= 0x30 && c <= 0x39; c = data[++i]) n = n * 10 + (c - 0x30);
  return n;
}

/** The `user_id` field of an event, read without JSON.parse. */
function userIdOf(data: Buffer): string {
  const at = data.indexOf(USER_KEY);
  if (at < 0) return '';
  const start = at + USER_KEY.length;
  const end = data.indexOf(0x22, start);
  return end < 0 ? '' : data.toString('latin1', start, end);
}

export class GatewaySocket implements BenchSocket {
  sink: FrameSink = IGNORE;
  readonly closed: Promise<{ code: number }>;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve({ code })));
    ws.on('error', () => undefined);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Opens a socket, sends the auth frame and resolves once the server said `ready`. */
  static open(url: string, token: string, timeoutMs = 30_000): Promise<GatewaySocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, maxPayload: 4 << 20 });
      const socket = new GatewaySocket(ws);
      let settled = false;
      const timer = setTimeout(() => fail(new Error('no ready frame in time')), timeoutMs);
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      ws.once('unexpected-response', (_req, res) => fail(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', (err) => fail(err));
      ws.once('close', (code) => fail(new Error(`closed with ${code} before ready`)));
      ws.once('open', () => ws.send(JSON.stringify({ op: 'auth', token })));
      ws.on('message', (data: Buffer) => {
        if (settled) {
          socket.onFrame(data);
        } else if (startsWith(data, READY)) {
          settled = true;
          clearTimeout(timer);
          resolve(socket);
        } else if (startsWith(data, ERROR)) {
          fail(new Error(`auth refused: ${data.toString().slice(0, 200)}`));
        }
      });
    });
  }

  /** Sends `message.send` to the channel; the nonce carries the message index. */
  sendMessage(
    channelId: string,
    index: number,
    ciphertext: string,
    scheme: 'sender_key' | 'pairwise' = 'sender_key',
  ): void {
    const encryption =
      scheme === 'pairwise'
        ? '{"scheme":"pairwise","device_id":1}'
        : '{"scheme":"sender_key","distribution_id":"bench-chain","device_id":1}';
    this.ws.send(
      `{"op":"message.send","channel_id":"${channelId}","nonce":"${nonceOf(index)}","ciphertext":"${ciphertext}",` +
        `"encryption":${encryption}}`,
    );
  }

  sendTyping(channelId: string): void {
    this.ws.send(`{"op":"typing","channel_id":"${channelId}"}`);
  }

  setPresence(status: 'online' | 'idle' | 'dnd'): void {
    this.ws.send(`{"op":"presence.set","status":"${status}"}`);
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }

  private onFrame(data: Buffer): void {
    if (startsWith(data, CREATED)) {
      this.sink.delivery(indexFromNonce(data), performance.now());
    } else if (startsWith(data, ACK)) {
      this.sink.ack(indexFromNonce(data), performance.now());
    } else if (this.sink.event && startsWith(data, TYPING)) {
      this.sink.event('typing', userIdOf(data), performance.now());
    } else if (this.sink.event && startsWith(data, PRESENCE)) {
      this.sink.event('presence', userIdOf(data), performance.now());
    } else if (startsWith(data, ERROR)) {
      let code = 'unknown';
      try {
        code = String((JSON.parse(data.toString()) as { code?: unknown }).code);
      } catch {
        // keep unknown
      }
      this.sink.error(code);
    }
  }
}

import type { ChannelCursor } from '@chatalot/protocol';
import WebSocket from 'ws';
import type { z } from 'zod';

export type Frame = { type: string; [field: string]: unknown };

/**
 * A real WebSocket client for gateway tests: keeps every frame it receives, lets a test wait
 * for the next frame matching a predicate, and reports how the socket closed.
 */
export class TestSocket {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private cursor = 0;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as Frame);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: String(reason) });
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
    ws.on('error', () => undefined);
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const socket = new TestSocket(ws);
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Opens a socket and signs in; resolves with the `ready` frame. */
  static async signedIn(url: string, bearer: string, resume?: z.infer<typeof ChannelCursor>[]): Promise<TestSocket> {
    const socket = await TestSocket.open(url);
    socket.send({ op: 'auth', token: bearer.replace(/^Bearer /, ''), ...(resume ? { resume } : {}) });
    await socket.next((f) => f.type === 'ready');
    return socket;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame (after the ones already taken) that matches; fails after `timeoutMs`. */
  async next(match: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const frame = this.frames[this.cursor++]!;
        if (match(frame)) return frame;
      }
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('socket closed while waiting for a frame');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a frame with a fresh ref and waits for its ack or error. */
  async request(frame: Record<string, unknown>): Promise<Frame> {
    const ref = `r${Math.random().toString(36).slice(2)}`;
    this.send({ ...frame, ref });
    const all = () => this.frames.find((f) => f.ref === ref && (f.type === 'ack' || f.type === 'error'));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = all();
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no answer to ${String(frame.op)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Every `message.created` frame received so far for a channel, in arrival order. */
  messages(channelId: string): Frame[] {
    return this.frames.filter((f) => f.type === 'message.created' && f.channel_id === channelId);
  }

  close(): void {
    this.ws.close();
  }
}

/** A valid message body for tests: base64 of some bytes the server never reads. */
export function ciphertext(text: string): string {
  return Buffer.from(text).toString('base64');
}

export const SENDER_KEY = { scheme: 'sender_key', distribution_id: 'test-chain' } as const;

import { randomUUID } from 'node:crypto';
import { GATEWAY } from '@chatalot/protocol';
import type { TestApp } from './test-app.js';
import { ciphertext, type Frame, SENDER_KEY, type TestSocket } from './ws-client.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts the test app on an ephemeral port: the socket URL and the HTTP base URL. */
export async function listen(t: TestApp): Promise<{ wsUrl: string; httpUrl: string }> {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { wsUrl: `ws://127.0.0.1:${address.port}/ws`, httpUrl: `http://127.0.0.1:${address.port}` };
}

/**
 * The client's side of the gateway's per-socket token bucket, a little below the server's
 * numbers (the auth frame took one token), so paced frames are normally not rate-limited.
 */
export class Pacer {
  private tokens: number;
  private updatedAt = Date.now();

  constructor(
    private readonly capacity: number = GATEWAY.burst - 2,
    private readonly perSec: number = GATEWAY.refillPerSec * 0.9,
  ) {
    this.tokens = capacity;
  }

  /** Resolves once a frame may be sent. */
  async take(): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.perSec);
      this.updatedAt = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - this.tokens) / this.perSec) * 1000));
    }
  }
}

/**
 * Answers (`ack`/`error`/`pong`) by ref, read off the socket as they arrive, without scanning
 * every frame the socket kept (a burst leaves thousands of events there).
 */
export class AnswerTracker {
  private readonly answers = new Map<string, Frame>();
  private readonly waiting = new Map<string, (frame: Frame) => void>();

  constructor(readonly socket: TestSocket) {
    socket.ws.on('message', (data: Buffer) => {
      const head = data.subarray(0, 16).toString();
      if (!/^\{"type":"(ack|error|pong)"/.test(head)) return;
      const frame = JSON.parse(String(data)) as Frame;
      if (typeof frame.ref !== 'string') return;
      const wake = this.waiting.get(frame.ref);
      if (wake) {
        this.waiting.delete(frame.ref);
        wake(frame);
      } else {
        this.answers.set(frame.ref, frame);
      }
    });
  }

  /** The answer to `ref`: waits for it, fails after `timeoutMs` or when the socket closes. */
  answer(ref: string, timeoutMs = 20_000): Promise<Frame> {
    const known = this.answers.get(ref);
    if (known) {
      this.answers.delete(ref);
      return Promise.resolve(known);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(ref);
        reject(new Error(`no answer to ${ref} within ${timeoutMs} ms`));
      }, timeoutMs);
      void this.socket.closed.then(() => {
        if (!this.waiting.has(ref)) return;
        this.waiting.delete(ref);
        clearTimeout(timer);
        reject(new Error(`socket closed before answering ${ref}`));
      });
      this.waiting.set(ref, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }
}

export interface SentMessage {
  nonce: string;
  id: string;
  seq: number;
}

/** One tracker per socket, shared by every burst sent on it (each would otherwise add a listener). */
const trackers = new WeakMap<TestSocket, AnswerTracker>();
function trackerOf(socket: TestSocket): AnswerTracker {
  let tracker = trackers.get(socket);
  if (!tracker) {
    tracker = new AnswerTracker(socket);
    trackers.set(socket, tracker);
  }
  return tracker;
}

/**
 * Sends `count` messages to one channel, spread round-robin over the sockets and pipelined
 * (each socket paced below its token bucket; a `rate_limited` answer is retried with the same
 * nonce, which never makes a second message). Resolves with every ack, in send order.
 */
export async function sendMessages(
  sockets: TestSocket[],
  channelId: string,
  count: number,
  options: { tag?: string; body?: (i: number) => string; onAck?: (sent: SentMessage) => void } = {},
): Promise<SentMessage[]> {
  const tag = options.tag ?? 'burst';
  const body = options.body ?? ((i: number) => ciphertext(`${tag} ${i}`));
  const lanes = sockets.map((socket) => ({ socket, pacer: new Pacer(), answers: trackerOf(socket) }));
  // Refs unique to this call: bursts may overlap on the same sockets.
  const refPrefix = randomUUID().slice(0, 8);
  const results: SentMessage[] = new Array<SentMessage>(count);
  await Promise.all(
    lanes.map(async (lane, l) => {
      const inFlight: Promise<void>[] = [];
      for (let i = l; i < count; i += lanes.length) {
        const nonce = `${tag}-${i}-${randomUUID()}`;
        const frame = { op: 'message.send', channel_id: channelId, nonce, ciphertext: body(i), encryption: SENDER_KEY };
        const attempt = async (): Promise<void> => {
          for (let tries = 0; ; tries++) {
            await lane.pacer.take();
            const ref = `${refPrefix}-${i}-${tries}`;
            lane.socket.send({ ...frame, ref });
            const answer = await lane.answers.answer(ref);
            if (answer.type === 'ack') {
              const data = answer.data as SentMessage;
              const sent = { nonce, id: data.id, seq: data.seq };
              results[i] = sent;
              options.onAck?.(sent);
              return;
            }
            if (answer.code !== 'rate_limited' || tries > 20) {
              throw new Error(`message ${i} refused: ${JSON.stringify(answer)}`);
            }
            await sleep(200);
          }
        };
        inFlight.push(attempt());
      }
      await Promise.all(inFlight);
    }),
  );
  return results;
}

/** Waits until the socket has received (at any point so far) a frame that matches. */
export async function received(socket: TestSocket, match: (f: Frame) => boolean, timeoutMs = 20_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = socket.frames.findLast(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** The channel's committed messages, from the database, by seq. */
export async function storedMessages(t: TestApp, channelId: string): Promise<{ id: string; seq: number }[]> {
  const rows = await t.db.database.db
    .selectFrom('messages')
    .select(['id', 'seq'])
    .where('channel_id', '=', channelId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ id: r.id, seq: Number(r.seq) }));
}

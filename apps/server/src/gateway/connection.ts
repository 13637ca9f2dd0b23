import { randomUUID } from 'node:crypto';
import { CLOSE_CODES, GATEWAY, type ClientFrame, type ServerFrame } from '@chatalot/protocol';
import type { WebSocket } from 'ws';
import type { Actor } from '../auth/authenticate.js';
import { AppError, fromDatabaseError } from '../errors.js';
import type { UserTopics } from './access.js';
import type { GatewayContext } from './context.js';
import { parseFrame, refOf } from './frames.js';
import { runOp } from './ops.js';
import type { BrokerEvent, Subscriber } from './registry.js';
import { TokenBucket } from './token-bucket.js';

type State = 'authenticating' | 'open' | 'closed';

/** Every frame is JSON text, also when handed to `ws` as encoded bytes. */
const TEXT = { binary: false };

/**
 * One client socket: the auth handshake, then frames through the op table, events from the
 * registry out to the client with per-channel de-duplication, and the limits that keep one
 * client from hurting the others (token bucket, unsent-bytes cap, heartbeat).
 */
export class Connection implements Subscriber {
  readonly id = randomUUID();
  private state: State = 'authenticating';
  actor: Actor | null = null;
  /** The key-service device this socket speaks for, if it said so in its auth frame. */
  deviceId: number | null = null;
  /** Channel id → highest seq sent on this socket. */
  readonly seen = new Map<string, number>();
  /** Channels being resumed: live message events wait here until the replay is out. */
  readonly replaying = new Map<string, { seq: number; frame: Buffer }[]>();
  /** Topics this socket listens to. */
  readonly topics = new Set<string>();
  lastHeard = Date.now();
  private readonly bucket = new TokenBucket(GATEWAY.burst, GATEWAY.refillPerSec);
  private authTimer: NodeJS.Timeout | null;
  private expiryTimer: NodeJS.Timeout | null = null;
  /** Frames are handled one at a time, in the order they arrived. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly ws: WebSocket,
    readonly ctx: GatewayContext,
  ) {
    this.authTimer = setTimeout(
      () => this.close(CLOSE_CODES.unauthorized, 'No auth frame in time'),
      GATEWAY.authTimeoutMs,
    );
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('pong', () => (this.lastHeard = Date.now()));
    ws.on('close', () => void this.teardown());
    ws.on('error', () => undefined);
  }

  get userId(): string {
    return this.actor?.userId ?? '';
  }
  get sessionId(): string {
    return this.actor?.sessionId ?? '';
  }
  get isOpen(): boolean {
    return this.state === 'open';
  }

  /**
   * Writes one frame (an object, its JSON, or its JSON already UTF-8 encoded); a socket with
   * too much unsent is closed so it resumes later.
   */
  send(frame: ServerFrame | string | Buffer): void {
    if (this.state === 'closed' || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > GATEWAY.maxBufferedBytes) {
      this.close(CLOSE_CODES.slowConsumer, 'Too much unsent data: reconnect and resume');
      return;
    }
    const data = typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame);
    this.ws.send(data, TEXT);
  }

  /** An event from a topic this socket listens to. */
  deliver(_topic: string, event: BrokerEvent, frame: Buffer): void {
    if (this.state !== 'open') return;
    if (event.type === 'session.revoked' && event.session_id === this.sessionId) {
      this.close(CLOSE_CODES.sessionRevoked, 'This session was signed out');
      return;
    }
    if (event.type === 'user.suspended' && event.user_id === this.userId) {
      this.close(CLOSE_CODES.sessionRevoked, 'This account is suspended');
      return;
    }
    // Device messages go only to the socket of the device they are addressed to.
    if (event.type === 'device.message' && event.device_id !== this.deviceId) return;
    if (event.type === 'message.created') {
      const channelId = event.channel_id as string;
      const queued = this.replaying.get(channelId);
      if (queued) queued.push({ seq: event.seq as number, frame });
      else this.sendMessageEvent(channelId, event.seq as number, frame);
      return;
    }
    this.send(frame);
  }

  /** Sends a message event unless this socket already had it; false when skipped. */
  sendMessageEvent(channelId: string, seq: number, frame: string | Buffer): boolean {
    if (seq <= (this.seen.get(channelId) ?? 0)) return false;
    this.seen.set(channelId, seq);
    this.send(frame);
    return true;
  }

  /** Sends what waited while a channel was replayed, skipping what the replay covered. */
  flushReplay(channelId: string): void {
    const queued = this.replaying.get(channelId);
    if (!queued) return;
    this.replaying.delete(channelId);
    for (const { seq, frame } of queued.sort((a, b) => a.seq - b.seq)) this.sendMessageEvent(channelId, seq, frame);
  }

  /** Called once the auth frame was accepted; false when the socket closed while the token was checked. */
  becomeOpen(actor: Actor, tokenExpiresAt: number): boolean {
    if (this.state === 'closed') return false;
    this.actor = actor;
    this.state = 'open';
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
    this.renewExpiry(tokenExpiresAt);
    return true;
  }

  /** The socket lives as long as its access token; `auth.refresh` extends it. */
  renewExpiry(expiresAt: number): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    const delay = Math.max(0, expiresAt - Date.now());
    this.expiryTimer = setTimeout(
      () => this.close(CLOSE_CODES.tokenExpired, 'The access token expired: refresh it'),
      // setTimeout cannot wait longer than ~24.8 days; tokens live minutes.
      Math.min(delay, 2 ** 31 - 1),
    );
  }

  /** Listens to exactly these topics from now on. */
  async applyTopics(next: UserTopics): Promise<string[]> {
    // Closed while its access was read: its teardown has run, nothing would unsubscribe it.
    if (this.state === 'closed') return [];
    const wanted = new Set([...next.others, ...next.channels.keys()]);
    for (const topic of [...this.topics]) {
      if (wanted.has(topic)) continue;
      this.topics.delete(topic);
      this.ctx.registry.remove(topic, this);
      const channelId = next.channels.get(topic) ?? topic.replace(/^channel:/, '');
      this.seen.delete(channelId);
      this.replaying.delete(channelId);
    }
    const added = [...wanted].filter((t) => !this.topics.has(t));
    for (const topic of added) this.topics.add(topic);
    await Promise.all(added.map((topic) => this.ctx.registry.add(topic, this)));
    return added.filter((t) => next.channels.has(t)).map((t) => next.channels.get(t)!);
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    void this.teardown();
    try {
      this.ws.close(code, reason);
    } catch {
      // already closing
    }
    // A peer that never reads will not finish the closing handshake.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.lastHeard = Date.now();
    if (this.state === 'closed') return;
    if (!this.bucket.take(Date.now())) {
      this.send(errorFrame(refOf(data), null, new AppError('rate_limited', 'Too many frames: slow down')));
      return;
    }
    this.queue = this.queue.then(() => this.handle(data, isBinary));
  }

  private async handle(data: Buffer, isBinary: boolean): Promise<void> {
    if (this.state === 'closed') return;
    let frame: ClientFrame;
    try {
      if (isBinary) throw new AppError('invalid_json', 'Frames are JSON text');
      frame = parseFrame(data);
    } catch (err) {
      this.send(errorFrame(refOf(data), null, err));
      return;
    }
    try {
      await runOp(this, frame);
    } catch (err) {
      const known = err instanceof AppError ? err : fromDatabaseError(err);
      if (!known) this.ctx.log.error({ err, op: frame.op }, 'gateway op failed');
      this.send(errorFrame(frame.ref ?? null, frame.op, known ?? err));
    }
  }

  private async teardown(): Promise<void> {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    if (this.authTimer) clearTimeout(this.authTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    for (const topic of this.topics) this.ctx.registry.remove(topic, this);
    this.topics.clear();
    this.ctx.connections.delete(this);
    if (!wasOpen) return;
    this.ctx.registry.removeUser(this);
    await this.ctx.presence.socketClosed(this).catch((err: unknown) => this.ctx.log.error({ err }, 'presence'));
  }
}

function errorFrame(ref: string | null, op: string | null, err: unknown): ServerFrame {
  const appError = err instanceof AppError ? err : new AppError('internal_error', 'Something went wrong on the server');
  return { type: 'error', ref, op, code: appError.code, message: appError.message };
}

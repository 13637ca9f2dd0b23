import {
  CLOSE_CODES,
  ClientFrame,
  ERROR_CODES,
  ERROR_STATUS,
  GATEWAY,
  Message,
  MessageAck,
  PresenceStatus as PresenceStatusSchema,
  type ErrorCode,
  type EventFrame,
  type ChannelsAddedFrame,
  type ReadyFrame,
  type SendMessage,
} from '@chatalot/protocol';
import { z } from 'zod';
import { ApiError } from './api-error.js';
import { Backoff } from './backoff.js';
import { ChannelCursors, type ChannelCursor } from './cursors.js';
import { tokenTimes } from './jwt.js';
import { RateLimiter } from './rate-limiter.js';
import { SendQueue, type QueuedOp } from './send-queue.js';
import {
  WS_OPEN,
  type CloseEventLike,
  type MessageEventLike,
  type WebSocketConstructor,
  type WebSocketLike,
} from './web-socket.js';

/** `connecting` until the first `ready`; `reconnecting` between connections; `closed` when stopped. */
export type GatewayState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Why the client stopped by itself: the app must sign in again. */
export interface GatewaySignedOut {
  /**
   * `session_revoked`: the server closed with 4003 (signed out elsewhere, or suspended).
   * `unauthorized`: the server refused even a fresh token (4001 twice).
   * `refresh_failed`: no token could be had (`getAccessToken` failed for good).
   */
  reason: 'session_revoked' | 'unauthorized' | 'refresh_failed';
  /** What the server or the token source said, when it said something. */
  error?: ApiError;
}

/** A server event other than a message: typing, presence, read, message.updated/deleted, reaction.*, member.*, … */
export type GatewayEvent = EventFrame;

export interface GatewayEvents {
  /** Each channel message once, in seq order per channel (live, replayed or read from history). */
  message: Message;
  /** Every other server event, as sent. */
  event: GatewayEvent;
  state: GatewayState;
  /** Each successful sign-in of a socket, with the channels and their latest seq. */
  ready: ReadyFrame;
  'signed-out': GatewaySignedOut;
  /** Problems that no promise reports: error frames without a ref, failed history reads, bad frames. */
  error: ApiError;
}

/** A message to send; the nonce is generated when absent. */
export type SendMessageInput = Omit<SendMessage, 'nonce'> & { nonce?: string };

export interface GatewayClientOptions {
  /** The gateway, `ws(s)://host/ws`. */
  url: string;
  /**
   * An access token to sign the socket in with. `fresh: true` asks for a new one (the server
   * refused the last, or it is about to expire); otherwise a cached one that has not expired
   * will do. `(o) => auth.getAccessToken(o)` with an AuthClient. An ApiError with `invalid_token`,
   * `unauthorized`, `session_revoked` or `account_suspended` stops the client (`signed-out`);
   * other failures are retried with backoff.
   */
  getAccessToken: (options: { fresh: boolean }) => Promise<string>;
  /**
   * Up to a page of a channel's messages after `after`, ascending
   * (`GET /api/channels/:id/messages?after=&limit=100`; `(id, after) => auth.messages.after(id, after)`).
   * Used to fill gaps and to catch up after `resume.gap`.
   */
  fetchHistory: (channelId: string, after: number) => Promise<Message[]>;
  /** Defaults to `globalThis.WebSocket`; Node passes the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  /** The key-service device this socket speaks for (sent as `device_id` in `auth`), if any. */
  deviceId?: number;
  /** Cursors saved from an earlier run (`cursors()`), to resume from. */
  cursors?: Iterable<ChannelCursor>;
  /** Reconnect window (1 s … 30 s). */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /** Renew the access token this long before it expires (60 s). */
  refreshMarginMs?: number;
  /** Nonces for messages sent without one (crypto.randomUUID). */
  newNonce?: () => string;
  /** Injectable for tests: uniform random in [0, 1) and the clock in ms. */
  random?: () => number;
  now?: () => number;
}

/** Codes from the token source that mean the session is over. */
const TERMINAL_TOKEN_ERRORS = new Set<string>([
  'invalid_token',
  'unauthorized',
  'session_revoked',
  'account_suspended',
]);
/** Client-side pacing, a little under the server's bucket (burst 30, 10/s). */
const CLIENT_BURST = GATEWAY.burst - 5;
/** How long to hold frames back after the server said `rate_limited`. */
const RATE_LIMITED_PAUSE_MS = 1000;
/** Code used when the client closes a socket it gave up on (4000–4999 is for applications). */
const CLIENT_GAVE_UP = 4000;

const ReadAck = z.object({ channel_id: z.string(), seq: z.number().int() });
const RefreshAck = z.object({ expires_at: z.number() });
const ignoreData = (): void => undefined;

export type PresenceStatus = z.infer<typeof PresenceStatusSchema>;
type Listener<K extends keyof GatewayEvents> = (value: GatewayEvents[K]) => void;
type OutFrame = { op: string; [field: string]: unknown };

/**
 * The real-time half of the SDK: one WebSocket to the gateway, kept open.
 *
 * - Signs in with the first frame (`auth`, with the cursors to resume from) and waits for
 *   `ready`; renews the token with `auth.refresh` before it expires.
 * - Reconnects with exponential backoff and jitter (1–30 s) on every close except: 4003 (session
 *   revoked: `signed-out`, stop), 4001 (token refused: one retry with a fresh token, then stop),
 *   4002 (token expired: reconnect at once with a fresh token).
 * - Keeps, per channel, the highest contiguous seq received; resumes from it; pages history on
 *   `resume.gap` and when a live message skips ahead; drops duplicates. Subscribers get each
 *   message once, in seq order per channel.
 * - Sends through an offline queue: `send` resolves with the server's ack once the message is
 *   committed, resending the same nonce after a reconnect (the server never makes a second
 *   message from one nonce); an `error` frame rejects with an ApiError carrying the stable code.
 */
export class GatewayClient {
  private readonly options: GatewayClientOptions;
  private readonly now: () => number;
  private readonly WebSocketImpl: WebSocketConstructor | undefined;
  private readonly cursorState: ChannelCursors;
  private readonly queue = new SendQueue();
  private readonly backoff: Backoff;
  private readonly limiter: RateLimiter;
  private readonly listeners = new Map<keyof GatewayEvents, Set<Listener<never>>>();

  private currentState: GatewayState = 'closed';
  /** Between `connect()` and a stop. */
  private running = false;
  /** After `close()` or a sign-out, until `connect()`: new frames are refused instead of queued. */
  private stopped = false;
  private everOpened = false;
  private socket: WebSocketLike | null = null;
  /** Bumped for every connection attempt and stop: late callbacks of older ones are ignored. */
  private generation = 0;
  private refCounter = 0;

  private token: string | null = null;
  /** When `token` was obtained with `fresh: true` (its whole lifetime lies ahead), else null. */
  private tokenFreshAt: number | null = null;
  private wantFreshToken = false;
  private retriedUnauthorized = false;
  private retriedExpired = false;
  private lastAuthError: ApiError | undefined;

  private lastHeard = 0;
  private heartbeatMs: number = GATEWAY.heartbeatMs;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private readyTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private pumpTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;

  /** Channels being caught up from history, and how many `resume.gap`s asked for a full catch-up. */
  private readonly catchingUp = new Map<string, Promise<void>>();
  private readonly pagingRequests = new Map<string, number>();
  private readonly sleepers = new Set<() => void>();

  constructor(options: GatewayClientOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.WebSocketImpl =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ?? undefined;
    this.cursorState = new ChannelCursors(options.cursors);
    this.backoff = new Backoff({ ...options.reconnect, random: options.random });
    this.limiter = new RateLimiter(CLIENT_BURST, GATEWAY.refillPerSec, this.now);
  }

  get state(): GatewayState {
    return this.currentState;
  }

  /** Frames asked for and not yet answered (the offline queue included). */
  get pending(): number {
    return this.queue.size;
  }

  /** Each channel's highest contiguous seq: persist it and pass it back as `cursors` to resume. */
  cursors(): ChannelCursor[] {
    return this.cursorState.list();
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof GatewayEvents>(event: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => void set.delete(listener as Listener<never>);
  }

  /**
   * Starts connecting (and keeps reconnecting) until `close()` or a sign-out. Resolves at the
   * next `open`; rejects when the client stops first. Calling it again while running is harmless.
   */
  connect(): Promise<void> {
    if (!this.running) {
      if (!this.WebSocketImpl) {
        return Promise.reject(new Error('No WebSocket implementation: pass one as the WebSocket option'));
      }
      this.running = true;
      this.stopped = false;
      this.everOpened = false;
      this.backoff.reset();
      this.retriedUnauthorized = false;
      this.retriedExpired = false;
      void this.openSocket();
    }
    if (this.currentState === 'open') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.on('state', (state) => {
        if (state === 'open') {
          off();
          resolve();
        } else if (state === 'closed') {
          off();
          reject(new ApiError('network_error', 'The gateway client stopped before it connected', 0));
        }
      });
    });
  }

  /** Closes the socket and stops; unanswered frames are rejected. `connect()` starts again. */
  close(): void {
    this.stop();
  }

  /**
   * Sends a message. Resolves with the ack once the server committed it; queued while offline
   * and resent with the same nonce after a reconnect until acked. Rejects with an ApiError:
   * the server's code (`not_found`, `slow_mode`, `channel_read_only`, …), `validation_error`
   * before sending for a malformed input, or `network_error` when the client is closed.
   */
  send(input: SendMessageInput): Promise<MessageAck> {
    const nonce = input.nonce ?? this.newNonce();
    return this.request(
      { ...input, op: 'message.send', nonce },
      { resendable: true, parse: (d) => MessageAck.parse(d) },
    );
  }

  /**
   * Replaces the body of one's own message (within 15 minutes); resolves with the updated
   * message. An edit in flight when the connection drops is rejected with `network_error`
   * rather than repeated (each edit adds a version); it may or may not have been applied.
   */
  edit(messageId: string, ciphertext: string): Promise<Message> {
    return this.request(
      { op: 'message.edit', message_id: messageId, ciphertext },
      { resendable: false, parse: (d) => Message.parse(d) },
    );
  }

  /** Deletes a message (one's own, or any as a moderator). */
  delete(messageId: string): Promise<void> {
    return this.request({ op: 'message.delete', message_id: messageId }, { resendable: true, parse: ignoreData });
  }

  react(messageId: string, emoji: string): Promise<void> {
    return this.request({ op: 'reaction.add', message_id: messageId, emoji }, { resendable: true, parse: ignoreData });
  }

  unreact(messageId: string, emoji: string): Promise<void> {
    return this.request(
      { op: 'reaction.remove', message_id: messageId, emoji },
      { resendable: true, parse: ignoreData },
    );
  }

  /**
   * Says "typing…" in a channel (the server passes on at most one per 3 s). Best effort: while
   * disconnected, or when the connection drops before the answer, it resolves without effect;
   * it rejects only when the server refuses it.
   */
  typing(channelId: string): Promise<void> {
    if (this.currentState !== 'open') return Promise.resolve();
    return this.request({ op: 'typing', channel_id: channelId }, { resendable: false, parse: ignoreData }).catch(
      (err: unknown) => {
        if (err instanceof ApiError && err.code === 'network_error') return;
        throw err;
      },
    );
  }

  setPresence(status: PresenceStatus): Promise<void> {
    return this.request({ op: 'presence.set', status }, { resendable: true, parse: ignoreData });
  }

  /** Moves the read cursor forward; resolves with where it now is (never past the channel's latest). */
  markRead(channelId: string, seq: number): Promise<{ channel_id: string; seq: number }> {
    return this.request(
      { op: 'read', channel_id: channelId, seq },
      { resendable: true, parse: (d) => ReadAck.parse(d) },
    );
  }

  /**
   * Renews the socket's token now with a fresh one (`auth.refresh`); done by itself before the
   * token expires. Resolves with the new expiry (server clock, ms).
   */
  async refreshAuth(): Promise<number> {
    if (this.currentState !== 'open') throw new ApiError('network_error', 'Not connected', 0);
    const generation = this.generation;
    return this.sendRefresh(await this.obtainToken(true), generation);
  }

  // Connection lifecycle

  private async openSocket(): Promise<void> {
    const generation = ++this.generation;
    this.setState(this.everOpened ? 'reconnecting' : 'connecting');
    let token: string;
    try {
      token = await this.obtainToken(this.wantFreshToken);
    } catch (err) {
      if (generation !== this.generation || !this.running) return;
      const error = toApiError(err);
      if (TERMINAL_TOKEN_ERRORS.has(error.code)) this.stop({ reason: 'refresh_failed', error });
      else {
        this.emit('error', error);
        this.scheduleReconnect();
      }
      return;
    }
    if (generation !== this.generation || !this.running) return;
    this.wantFreshToken = false;
    this.lastAuthError = undefined;

    let ws: WebSocketLike;
    try {
      ws = new this.WebSocketImpl!(this.options.url);
    } catch (err) {
      this.emit('error', toApiError(err));
      this.scheduleReconnect();
      return;
    }
    this.socket = ws;
    // The server closes sockets that do not sign in within 10 s; a connection that hangs before
    // that (or a server that never says ready) is given up on a little later.
    this.readyTimer = this.later(GATEWAY.authTimeoutMs + 5000, () => {
      this.readyTimer = null;
      if (generation === this.generation) this.abandonSocket('No ready from the server in time');
    });
    ws.onopen = () => {
      if (generation !== this.generation) return;
      this.lastHeard = this.now();
      this.limiter.reset();
      this.limiter.take();
      const resume = this.cursorState.list().slice(0, 5000);
      const deviceId = this.options.deviceId;
      ws.send(
        JSON.stringify({ op: 'auth', token, resume, ...(deviceId !== undefined ? { device_id: deviceId } : {}) }),
      );
    };
    ws.onmessage = (event: MessageEventLike) => {
      if (generation === this.generation) this.onFrame(event.data);
    };
    ws.onclose = (event: CloseEventLike) => {
      if (generation === this.generation) this.onSocketClosed(event.code);
    };
    ws.onerror = () => undefined; // a close event follows
  }

  private async obtainToken(fresh: boolean): Promise<string> {
    let token = await this.options.getAccessToken({ fresh });
    if (!fresh) {
      // A cached token about to expire would get the socket closed at once: ask for a new one.
      const times = tokenTimes(token);
      if (times && times.expiresAt - this.now() < 5000) {
        token = await this.options.getAccessToken({ fresh: true });
        fresh = true;
      }
    }
    this.token = token;
    this.tokenFreshAt = fresh ? this.now() : null;
    return token;
  }

  private async sendRefresh(token: string, generation: number): Promise<number> {
    if (generation !== this.generation) throw new ApiError('network_error', 'The connection changed meanwhile', 0);
    const { expires_at } = await this.request(
      { op: 'auth.refresh', token },
      { resendable: false, front: true, parse: (d) => RefreshAck.parse(d) },
    );
    if (generation === this.generation) this.scheduleTokenRefresh();
    return expires_at;
  }

  private onSocketClosed(code: number): void {
    this.detachSocket();
    this.clearConnectionTimers();
    for (const op of this.queue.connectionLost()) {
      op.reject(
        new ApiError('network_error', 'The connection closed before the server answered; it may have been applied', 0),
      );
    }
    if (!this.running) return;
    if (code === CLOSE_CODES.sessionRevoked) {
      this.stop({ reason: 'session_revoked', ...(this.lastAuthError ? { error: this.lastAuthError } : {}) });
      return;
    }
    if (code === CLOSE_CODES.unauthorized) {
      if (this.retriedUnauthorized) {
        this.stop({ reason: 'unauthorized', ...(this.lastAuthError ? { error: this.lastAuthError } : {}) });
        return;
      }
      this.retriedUnauthorized = true;
      this.wantFreshToken = true;
      this.reconnectNow();
      return;
    }
    if (code === CLOSE_CODES.tokenExpired) {
      this.wantFreshToken = true;
      if (!this.retriedExpired) {
        this.retriedExpired = true;
        this.reconnectNow();
        return;
      }
    }
    this.scheduleReconnect();
  }

  private reconnectNow(): void {
    this.setState(this.everOpened ? 'reconnecting' : 'connecting');
    this.reconnectTimer = this.later(0, () => {
      this.reconnectTimer = null;
      if (this.running) void this.openSocket();
    });
  }

  private scheduleReconnect(): void {
    this.setState(this.everOpened ? 'reconnecting' : 'connecting');
    this.reconnectTimer = this.later(this.backoff.next(), () => {
      this.reconnectTimer = null;
      if (this.running) void this.openSocket();
    });
  }

  /** Gives up on the current socket (dead, or never ready) and goes on as if it had closed. */
  private abandonSocket(reason: string): void {
    const ws = this.socket;
    this.detachSocket();
    try {
      ws?.close(CLIENT_GAVE_UP, reason);
    } catch {
      // already closing
    }
    this.onSocketClosed(CLIENT_GAVE_UP);
  }

  private detachSocket(): void {
    const ws = this.socket;
    this.socket = null;
    if (!ws) return;
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = () => undefined;
  }

  private stop(signedOut?: GatewaySignedOut): void {
    const wasRunning = this.running;
    this.running = false;
    this.stopped = true;
    this.generation++;
    const ws = this.socket;
    this.detachSocket();
    try {
      ws?.close(1000, 'Client closed');
    } catch {
      // already closing
    }
    this.clearConnectionTimers();
    if (this.reconnectTimer) this.cancel(this.reconnectTimer);
    this.reconnectTimer = null;
    for (const wake of [...this.sleepers]) wake();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const error = signedOut
      ? new ApiError(
          signedOut.reason === 'session_revoked' ? 'session_revoked' : 'unauthorized',
          'Signed out: sign in again',
          401,
        )
      : new ApiError('network_error', 'The gateway client was closed', 0);
    for (const op of this.queue.clear()) op.reject(error);
    if (signedOut && wasRunning) this.emit('signed-out', signedOut);
    this.setState('closed');
  }

  private clearConnectionTimers(): void {
    for (const timer of [this.readyTimer, this.refreshTimer, this.pumpTimer]) if (timer) this.cancel(timer);
    this.readyTimer = this.refreshTimer = this.pumpTimer = null;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  // Frames from the server

  private onFrame(raw: unknown): void {
    this.lastHeard = this.now();
    let frame: { type?: unknown; [field: string]: unknown };
    try {
      frame = JSON.parse(typeof raw === 'string' ? raw : String(raw)) as typeof frame;
    } catch {
      this.emit('error', new ApiError('bad_response', 'The server sent a frame that is not JSON', 0));
      return;
    }
    if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string') return;
    switch (frame.type) {
      case 'ready':
        this.onReady(frame as unknown as ReadyFrame);
        return;
      case 'ack':
        this.onAck(frame.ref, frame.data);
        return;
      case 'error':
        this.onErrorFrame(frame);
        return;
      case 'message.created':
        this.onMessageCreated(frame.message);
        return;
      case 'resume.gap':
        if (typeof frame.channel_id === 'string') this.catchUp(frame.channel_id, true);
        return;
      case 'resumed':
      case 'pong':
        return;
      case 'channels.added':
        if (Array.isArray(frame.channels)) this.cursorState.add(frame.channels as ChannelsAddedFrame['channels']);
        this.emit('event', frame as GatewayEvent);
        return;
      default:
        this.emit('event', frame as GatewayEvent);
    }
  }

  private onReady(frame: ReadyFrame): void {
    if (this.readyTimer) this.cancel(this.readyTimer);
    this.readyTimer = null;
    this.everOpened = true;
    this.backoff.reset();
    this.retriedUnauthorized = false;
    this.retriedExpired = false;
    this.heartbeatMs = frame.heartbeat_ms > 0 ? frame.heartbeat_ms : GATEWAY.heartbeatMs;
    for (const id of this.cursorState.sync(Array.isArray(frame.channels) ? frame.channels : [])) {
      this.pagingRequests.delete(id);
    }
    this.setState('open');
    this.emit('ready', frame);
    this.startHeartbeat();
    this.scheduleTokenRefresh();
    this.pump();
  }

  private onAck(ref: unknown, data: unknown): void {
    if (typeof ref !== 'string') return;
    const op = this.queue.take(ref);
    op?.resolve(data);
  }

  private onErrorFrame(frame: Record<string, unknown>): void {
    const error = errorFromFrame(frame.code, frame.message);
    if (frame.op === 'auth') {
      // The close that follows says what to do; the code says why.
      this.lastAuthError = error;
      return;
    }
    const op = typeof frame.ref === 'string' ? this.queue.get(frame.ref) : undefined;
    if (!op) {
      this.emit('error', error);
      return;
    }
    if (error.code === 'rate_limited') {
      // Refused before it was handled: send it again a little later.
      this.queue.unsend(op.ref);
      if (this.pumpTimer) this.cancel(this.pumpTimer);
      this.pumpTimer = this.later(RATE_LIMITED_PAUSE_MS, () => {
        this.pumpTimer = null;
        this.pump();
      });
      return;
    }
    this.queue.take(op.ref);
    op.reject(error);
  }

  private onMessageCreated(raw: unknown): void {
    const parsed = Message.safeParse(raw);
    if (!parsed.success) {
      // Left out, it leaves a gap that history fills.
      this.emit('error', new ApiError('bad_response', 'The server sent a message in an unexpected shape', 0));
      return;
    }
    const message = parsed.data;
    for (const m of this.cursorState.receive(message)) this.emit('message', m);
    if (this.cursorState.hasGap(message.channel_id)) this.catchUp(message.channel_id, false);
  }

  // History catch-up

  /**
   * Reads a channel's history after its cursor until the gap is filled, or, for `resume.gap`
   * (`paging`), until a read comes back empty. One run per channel at a time; failed reads are
   * retried with backoff while the client runs.
   */
  private catchUp(channelId: string, paging: boolean): void {
    if (paging) this.pagingRequests.set(channelId, (this.pagingRequests.get(channelId) ?? 0) + 1);
    if (this.catchingUp.has(channelId)) return;
    const run = this.runCatchUp(channelId).finally(() => this.catchingUp.delete(channelId));
    this.catchingUp.set(channelId, run);
  }

  private async runCatchUp(channelId: string): Promise<void> {
    const retry = new Backoff({ ...this.options.reconnect, random: this.options.random });
    for (;;) {
      if (!this.running) return;
      const pagingAsked = this.pagingRequests.get(channelId) ?? 0;
      if (pagingAsked === 0 && !this.cursorState.hasGap(channelId)) return;
      const after = this.cursorState.get(channelId);
      if (after === undefined) return;
      const mark = this.cursorState.mark();
      let page: Message[];
      try {
        page = await this.options.fetchHistory(channelId, after);
      } catch (err) {
        if (!this.running) return;
        this.emit('error', toApiError(err));
        await this.sleep(retry.next());
        continue;
      }
      if (!this.running) return;
      for (const m of this.cursorState.applyHistory(channelId, page, mark)) this.emit('message', m);
      // Caught up, unless another resume.gap came in during the read.
      if (page.length === 0 && this.pagingRequests.get(channelId) === pagingAsked) {
        this.pagingRequests.delete(channelId);
      }
      if (page.length > 0 && this.cursorState.get(channelId) === after) {
        // Nothing newer than the cursor in a non-empty page: a history source that ignores
        // `after`. Slow down instead of asking again at once.
        await this.sleep(retry.next());
      } else retry.reset();
    }
  }

  // Sending

  private request<T>(
    frame: OutFrame,
    options: { resendable: boolean; parse: (data: unknown) => T; front?: boolean },
  ): Promise<T> {
    if (this.stopped) {
      return Promise.reject(new ApiError('network_error', 'The gateway client is closed', 0));
    }
    const ref = `r${++this.refCounter}`;
    const checked = ClientFrame.safeParse({ ...frame, ref });
    if (!checked.success) {
      const details = checked.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      return Promise.reject(new ApiError('validation_error', `Invalid "${frame.op}" frame`, 400, details));
    }
    return new Promise<T>((resolve, reject) => {
      const op: QueuedOp = {
        ref,
        frame: checked.data as QueuedOp['frame'],
        resendable: options.resendable,
        sent: false,
        resolve: (data) => {
          try {
            resolve(options.parse(data));
          } catch {
            reject(new ApiError('bad_response', `The server answered "${frame.op}" in an unexpected shape`, 0));
          }
        },
        reject,
      };
      this.queue.add(op, options.front);
      this.pump();
    });
  }

  /** Writes queued frames in order while the socket is open, paced by the rate limiter. */
  private pump(): void {
    if (this.currentState !== 'open' || this.pumpTimer) return;
    for (;;) {
      const ws = this.socket;
      if (!ws || ws.readyState !== WS_OPEN) return;
      const op = this.queue.nextUnsent();
      if (!op) return;
      const wait = this.limiter.take();
      if (wait > 0) {
        this.pumpTimer = this.later(wait, () => {
          this.pumpTimer = null;
          this.pump();
        });
        return;
      }
      op.sent = true;
      ws.send(JSON.stringify(op.frame));
    }
  }

  // Liveness and token renewal

  /** Pings when the server has been quiet for a heartbeat; gives up after 45 s of silence. */
  private startHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      const quiet = this.now() - this.lastHeard;
      if (quiet >= GATEWAY.deadAfterMs) {
        this.abandonSocket('The server stopped answering');
        return;
      }
      const ws = this.socket;
      if (quiet >= this.heartbeatMs && ws && ws.readyState === WS_OPEN && this.limiter.take() === 0) {
        ws.send(JSON.stringify({ op: 'ping' }));
      }
    }, this.heartbeatMs / 3);
  }

  /**
   * Schedules `auth.refresh` `refreshMarginMs` before the token expires (or halfway, for short
   * tokens). The time left is measured from when a fresh token arrived, or read from `exp` on
   * the local clock but never beyond the token's lifetime, so a skewed clock cannot push it
   * past expiry by more than the skew. Should it still come late, the server closes with 4002
   * and the client reconnects at once.
   */
  private scheduleTokenRefresh(): void {
    if (this.refreshTimer) this.cancel(this.refreshTimer);
    this.refreshTimer = null;
    const times = this.token ? tokenTimes(this.token) : null;
    if (!times) return;
    const lifetime = times.expiresAt - times.issuedAt;
    const remaining =
      this.tokenFreshAt !== null
        ? lifetime - (this.now() - this.tokenFreshAt)
        : Math.min(lifetime, times.expiresAt - this.now());
    const margin = this.options.refreshMarginMs ?? 60_000;
    const delay = Math.max(0, remaining - margin, remaining / 2);
    const generation = this.generation;
    this.refreshTimer = this.later(delay, () => {
      this.refreshTimer = null;
      if (generation === this.generation) void this.renewToken(generation);
    });
  }

  private async renewToken(generation: number): Promise<void> {
    const retrySoon = (err: unknown) => {
      if (generation !== this.generation || !this.running) return;
      this.emit('error', toApiError(err));
      // If the token runs out first, the server closes with 4002 and the client reconnects.
      this.refreshTimer = this.later(10_000, () => {
        this.refreshTimer = null;
        if (generation === this.generation) void this.renewToken(generation);
      });
    };
    let token: string;
    try {
      token = await this.obtainToken(true);
    } catch (err) {
      const error = toApiError(err);
      if (generation === this.generation && this.running && TERMINAL_TOKEN_ERRORS.has(error.code)) {
        this.stop({ reason: 'refresh_failed', error });
      } else retrySoon(error);
      return;
    }
    await this.sendRefresh(token, generation).catch(retrySoon);
  }

  // Small helpers

  private newNonce(): string {
    if (this.options.newNonce) return this.options.newNonce();
    return globalThis.crypto.randomUUID();
  }

  private setState(state: GatewayState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.emit('state', state);
  }

  private emit<K extends keyof GatewayEvents>(event: K, value: GatewayEvents[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as Listener<K>)(value);
      } catch (err) {
        // Like EventTarget: one failing listener neither stops the others nor the client.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private later(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private cancel(timer: ReturnType<typeof setTimeout>): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** Waits, unless the client stops first. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleepers.delete(wake);
        this.cancel(timer);
        resolve();
      };
      const timer = this.later(ms, wake);
      this.sleepers.add(wake);
    });
  }
}

function errorFromFrame(code: unknown, message: unknown): ApiError {
  const text = typeof message === 'string' ? message : 'The server refused the request';
  if (typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code)) {
    return new ApiError(code as ErrorCode, text, ERROR_STATUS[code as ErrorCode]);
  }
  return new ApiError('bad_response', `The server answered with an unknown error code: ${String(code)}`, 0);
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError('network_error', err instanceof Error ? err.message : String(err), 0);
}

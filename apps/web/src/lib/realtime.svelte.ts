/**
 * The app's one connection to the WebSocket gateway: a GatewayClient from @chatalot/client
 * (reconnect with backoff, resume, typed events), started while someone is signed in and closed
 * when they sign out. Other modules subscribe through `realtime.on(...)`, which keeps working
 * when the client is replaced (listeners hear whichever client is current).
 *
 * The chat view and the end-to-end layer use the same connection: `realtime.client` to send,
 * `realtime.on('message', …)` to receive; `restart({ deviceId })` signs the socket in for a
 * key-service device.
 */
import { GatewayClient, type GatewayEvents, type GatewayState } from '@chatalot/client';
import type { ChannelCursor } from '@chatalot/client';
import { session } from '$lib/session.svelte';

type Listener<K extends keyof GatewayEvents> = (value: GatewayEvents[K]) => void;

/**
 * What a `ready` means for what listeners hold: the `first` since sign-in; a `reconnect` after the
 * socket was down (events sent meanwhile are not replayed: reload what they could have changed);
 * a `handover` to a freshly signed-in socket (`refreshAccess`, `restart`) that took over while
 * the old one was still open, so nothing was missed.
 */
export type ReadyKind = 'first' | 'reconnect' | 'handover';

const EVENTS: (keyof GatewayEvents)[] = ['message', 'event', 'state', 'ready', 'signed-out', 'error'];

class Realtime {
  /** `closed` while signed out; `connecting` until the first `ready`; `reconnecting` after a drop. */
  state = $state<GatewayState>('closed');
  /** The current client (null while signed out). */
  client: GatewayClient | null = null;
  private deviceId: number | undefined;
  private readonly listeners = new Map<keyof GatewayEvents, Set<Listener<never>>>();
  private detach: (() => void)[] = [];
  /** A client being brought up to replace the current one (see `refreshAccess`). */
  private incoming: { client: GatewayClient; detach: (() => void)[] } | null = null;
  /** Highest seq handed to listeners per channel, so a hand-over between clients never repeats one. */
  private readonly forwarded = new Map<string, number>();
  private readonly readyListeners = new Set<(kind: ReadyKind) => void>();
  /** A `ready` came since start. */
  private everReady = false;
  /** The current socket was not open at some point since the last `ready`. */
  private down = true;

  /** Subscribes to a gateway event on the current client and every later one. */
  on<K extends keyof GatewayEvents>(event: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      // Not reactive state: a plain registry of callbacks.
      // eslint-disable-next-line svelte/prefer-svelte-reactivity
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => void set.delete(listener as Listener<never>);
  }

  /** Subscribes to every `ready`, told whether events may have been missed before it. */
  onReady(listener: (kind: ReadyKind) => void): () => void {
    this.readyListeners.add(listener);
    return () => void this.readyListeners.delete(listener);
  }

  start(): void {
    if (this.client) return;
    const client = this.create();
    this.client = client;
    this.everReady = false;
    this.down = true;
    this.detach = this.attach(client);
    client.connect().catch(() => undefined);
  }

  stop(): void {
    this.dropIncoming();
    for (const off of this.detach) off();
    this.detach = [];
    this.client?.close();
    this.client = null;
    this.forwarded.clear();
    this.state = 'closed';
  }

  /**
   * Signs the socket in again, for a key-service device (the end-to-end layer calls this): a
   * new socket takes over as in `refreshAccess`, so the user does not blink offline meanwhile.
   */
  restart(options: { deviceId?: number } = {}): void {
    this.deviceId = options.deviceId;
    if (!this.client) return;
    this.dropIncoming();
    this.refreshAccess();
  }

  /**
   * Signs a fresh socket in (for a new device id, say) without a gap: a second client signs in,
   * resumes from the current client's cursors and takes over once ready;
   * the old one closes after. With two sockets open meanwhile, the user never looks offline to
   * others, and messages delivered by both during the hand-over reach listeners once.
   */
  refreshAccess(): void {
    const current = this.client;
    if (!current || this.incoming) return;
    const client = this.create(current.cursors());
    const detach = this.attach(client);
    this.incoming = { client, detach };
    client.connect().catch(() => {
      if (this.incoming?.client === client) this.dropIncoming();
    });
  }

  private create(cursors?: ChannelCursor[]): GatewayClient {
    const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
    return new GatewayClient({
      url,
      getAccessToken: (options) => session.client.getAccessToken(options),
      fetchHistory: (channelId, after) => session.client.messages.after(channelId, after),
      ...(this.deviceId !== undefined ? { deviceId: this.deviceId } : {}),
      ...(cursors ? { cursors } : {}),
    });
  }

  /** Forwards a client's events to the listeners while it is the current client. */
  private attach(client: GatewayClient): (() => void)[] {
    return EVENTS.map((name) =>
      client.on(name, (value) => {
        if (name === 'ready' && this.incoming?.client === client) this.takeOver();
        if (this.client !== client) return;
        if (name === 'state') {
          this.state = value as GatewayState;
          if (this.state !== 'open') this.down = true;
        }
        if (name === 'message') {
          const message = value as GatewayEvents['message'];
          if (message.seq <= (this.forwarded.get(message.channel_id) ?? 0)) return;
          this.forwarded.set(message.channel_id, message.seq);
        }
        if (name === 'signed-out') this.onSignedOut();
        for (const listener of [...(this.listeners.get(name) ?? [])]) (listener as Listener<typeof name>)(value);
        if (name === 'ready') this.announceReady();
      }),
    );
  }

  private announceReady(): void {
    const kind: ReadyKind = !this.everReady ? 'first' : this.down ? 'reconnect' : 'handover';
    this.everReady = true;
    this.down = false;
    for (const listener of [...this.readyListeners]) listener(kind);
  }

  private takeOver(): void {
    const incoming = this.incoming;
    if (!incoming) return;
    this.incoming = null;
    for (const off of this.detach) off();
    this.client?.close();
    this.client = incoming.client;
    this.detach = incoming.detach;
    this.state = incoming.client.state;
  }

  private dropIncoming(): void {
    if (!this.incoming) return;
    for (const off of this.incoming.detach) off();
    this.incoming.client.close();
    this.incoming = null;
  }

  private onSignedOut(): void {
    // The server closed the socket for good (session revoked, account suspended).
    void session.client.forget().then(() => {
      session.notice = 'This session was signed out (from another device, or by an admin). Sign in again.';
      session.setUser(null);
    });
  }
}

/** The app's one gateway connection. */
export const realtime = new Realtime();

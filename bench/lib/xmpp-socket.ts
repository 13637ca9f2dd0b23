// The load generator's XMPP client (plain TCP c2s, RFC 6120) for the ejabberd and Prosody
// targets: stream open, SASL ANONYMOUS, stream restart, resource bind (and session when the
// server insists), initial presence, then a join of each MUC room (XEP-0045) that resolves on the
// self-presence (status 110). After that no XML parser runs: the byte stream is scanned for
// `<message` and `<presence` start tags and a message's index is read from its id (`m-<index>`),
// as gateway-socket.ts reads it from the nonce. MUC has no ack, so the sender's own reflected
// groupchat message counts as its delivery and as its ack.
import { type Socket, createConnection } from 'node:net';
import type { BenchSocket } from '../targets/target.js';
import { type FrameSink, IGNORE } from './gateway-socket.js';

export interface XmppEndpoint {
  port: number;
  /** The virtual host users sign in to (anonymously), e.g. `localhost`. */
  domain: string;
  /** The MUC service, e.g. `conference.localhost`. */
  mucDomain: string;
}

/** The id of the message with this index. */
export const messageIdOf = (index: number) => `m-${index}`;

const MESSAGE = Buffer.from('<message');
const PRESENCE = Buffer.from('<presence');
const MESSAGE_END = Buffer.from('</message>');
const PRESENCE_END = Buffer.from('</presence>');
const COMPOSING = Buffer.from('<composing');
const ID_KEYS = [Buffer.from(`id='m-`), Buffer.from('id="m-')];
const FROM_KEYS = [Buffer.from(`from='`), Buffer.from('from="')];
const ERROR_TYPES = [Buffer.from(`type='error'`), Buffer.from('type="error"')];
const GT = 0x3e;
const SLASH = 0x2f;

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;');
const streamHeader = (domain: string) =>
  `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' ` +
  `xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;

/** Index of `needle` in data[from, to), or -1. */
function indexIn(data: Buffer, needle: Buffer, from: number, to: number): number {
  const at = data.indexOf(needle, from);
  return at >= 0 && at + needle.length <= to ? at : -1;
}

function indexOfAny(data: Buffer, needles: Buffer[], from: number, to: number): { at: number; length: number } | null {
  for (const needle of needles) {
    const at = indexIn(data, needle, from, to);
    if (at >= 0) return { at, length: needle.length };
  }
  return null;
}

export class XmppSocket implements BenchSocket {
  sink: FrameSink = IGNORE;
  readonly closed: Promise<{ code: number }>;
  /** Rooms joined, by room id. */
  private readonly rooms: string[] = [];
  /** Indexes this socket sent whose reflection has not come back yet (that reflection is the ack). */
  private readonly mine = new Set<number>();
  private ready = false;
  /** Setup: text received and not consumed yet; who waits for what in it. */
  private text = '';
  private onText: (() => void) | null = null;
  /** After setup: bytes of a stanza that is not complete yet. */
  private pending: Buffer | null = null;
  /** Set when setup ran out of time (the socket is then destroyed here, not by the server). */
  private timedOut = false;
  /** Called once, synchronously, when this side closes the socket or the server does. */
  private onClosed: (() => void) | null = null;

  private constructor(
    private readonly socket: Socket,
    private readonly endpoint: XmppEndpoint,
    /** The MUC nickname: the account's id, which is what typing/presence events are matched by. */
    private readonly nick: string,
  ) {
    this.closed = new Promise((resolve) =>
      socket.once('close', (hadError) => resolve({ code: hadError ? 1006 : 1000 })),
    );
    socket.on('error', () => undefined);
    socket.on('data', (data: Buffer) => {
      if (this.ready) this.scan(data);
      else {
        this.text += data.toString('utf8');
        this.onText?.();
      }
    });
    socket.once('close', () => {
      this.onText?.();
      this.notifyClosed();
    });
  }

  /** Runs `listener` once this socket is closed (at once if it already is). */
  whenClosed(listener: () => void): void {
    this.onClosed = listener;
    if (this.socket.destroyed) this.notifyClosed();
  }

  private notifyClosed(): void {
    const listener = this.onClosed;
    this.onClosed = null;
    listener?.();
  }

  get isOpen(): boolean {
    return !this.socket.destroyed && this.socket.readyState === 'open';
  }

  /**
   * Connects, signs in anonymously, joins the rooms and resolves once every join is confirmed.
   * The time limit is longer than the gateway socket's: a MUC join costs the server a presence
   * to and from every occupant, and Prosody needed about a minute to seat a room of 500.
   */
  static async open(endpoint: XmppEndpoint, nick: string, rooms: string[], timeoutMs = 120_000): Promise<XmppSocket> {
    const socket = createConnection({ host: '127.0.0.1', port: endpoint.port });
    socket.setNoDelay(true);
    const xmpp = new XmppSocket(socket, endpoint, nick);
    const timer = setTimeout(() => {
      xmpp.timedOut = true;
      socket.destroy(new Error(`setup timed out after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      await xmpp.signIn();
      await xmpp.join(rooms);
      xmpp.startScanning();
      return xmpp;
    } catch (err) {
      socket.destroy();
      throw new Error(`xmpp ${nick}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private async signIn(): Promise<void> {
    const { domain } = this.endpoint;
    this.socket.write(streamHeader(domain));
    const features = await this.expect(/<\/stream:features>|<stream:features\/>/);
    if (!/<mechanism>ANONYMOUS<\/mechanism>/.test(features)) throw new Error('server offers no SASL ANONYMOUS');
    // `=` is the empty initial response (RFC 6120 §6.4.2): no challenge round trip.
    this.socket.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'>=</auth>`);
    await this.expect(/<success[\s/>]/, /<failure/);
    this.socket.write(streamHeader(domain));
    const restarted = await this.expect(/<\/stream:features>|<stream:features\/>/);
    this.socket.write(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`);
    await this.expect(/<\/jid>/, /type=['"]error['"]/);
    // RFC 3921 sessions: only when offered and not marked optional (RFC 6121 dropped them).
    const session = /<session xmlns=['"]urn:ietf:params:xml:ns:xmpp-session['"](\/>|>(.*?)<\/session>)/.exec(restarted);
    if (session && !session[2]?.includes('<optional')) {
      this.socket.write(`<iq type='set' id='sess'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`);
      await this.expect(/id=['"]sess['"]/, /type=['"]error['"]/);
    }
    this.socket.write('<presence/>');
  }

  /** Joins each room (no history) and waits for each self-presence (status code 110). */
  private async join(rooms: string[]): Promise<void> {
    for (const room of rooms) {
      this.socket.write(
        `<presence to='${this.roomJid(room)}/${escapeAttr(this.nick)}'>` +
          `<x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`,
      );
    }
    for (let joined = 0; joined < rooms.length; joined++) {
      await this.expect(/<status code=['"]110['"]/, /<presence[^>]*type=['"]error['"]/);
    }
    this.rooms.push(...rooms);
  }

  /**
   * Resolves with the received text up to the end of the first match of `want` (and drops it
   * from the buffer); rejects when `fail` matches first or the socket closes.
   */
  private expect(want: RegExp, fail?: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = want.exec(this.text);
        const failed = fail?.exec(this.text);
        if (failed && (!match || failed.index < match.index)) {
          this.onText = null;
          reject(new Error(`refused: ${this.text.slice(Math.max(0, failed.index - 100), failed.index + 300)}`));
        } else if (match) {
          this.onText = null;
          const end = match.index + match[0].length;
          const consumed = this.text.slice(0, end);
          this.text = this.text.slice(end);
          resolve(consumed);
        } else if (this.socket.destroyed) {
          this.onText = null;
          const why = this.timedOut ? 'setup timed out' : 'the server closed the socket';
          reject(new Error(`${why} while waiting for ${want}: ${this.text.slice(-300)}`));
        }
      };
      this.onText = check;
      check();
    });
  }

  private startScanning(): void {
    this.ready = true;
    const rest = this.text;
    this.text = '';
    if (rest.length > 0) this.scan(Buffer.from(rest, 'utf8'));
  }

  private roomJid(room: string): string {
    return `${room}@${this.endpoint.mucDomain}`;
  }

  /** A groupchat message whose id carries the index; the ciphertext is the body (base64, XML-safe). */
  sendMessage(room: string, index: number, ciphertext: string): void {
    this.mine.add(index);
    this.socket.write(
      `<message to='${this.roomJid(room)}' type='groupchat' id='${messageIdOf(index)}'><body>${ciphertext}</body></message>`,
    );
  }

  /** XEP-0085 chat state `composing` to the room (a groupchat message without a body). */
  sendTyping(room: string): void {
    this.socket.write(
      `<message to='${this.roomJid(room)}' type='groupchat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`,
    );
  }

  /** Presence with a `show` to every joined room (MUC occupants see only presence sent to the room). */
  setPresence(status: 'online' | 'idle' | 'dnd'): void {
    const show = status === 'idle' ? '<show>away</show>' : status === 'dnd' ? '<show>dnd</show>' : '';
    let out = '';
    for (const room of this.rooms)
      out += `<presence to='${this.roomJid(room)}/${escapeAttr(this.nick)}'>${show}</presence>`;
    this.socket.write(out);
  }

  close(): void {
    this.socket.destroy();
    this.notifyClosed();
  }

  /**
   * Finds every complete `<message>` / `<presence>` stanza in what arrived (with what was left
   * incomplete from before) and reports it; keeps an incomplete last stanza for the next chunk.
   */
  private scan(chunk: Buffer): void {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    const watchEvents = this.sink.event !== undefined;
    let pos = 0;
    let nextMessage = data.indexOf(MESSAGE, pos);
    let nextPresence = watchEvents ? data.indexOf(PRESENCE, pos) : -1;
    while (nextMessage >= 0 || nextPresence >= 0) {
      const isMessage = nextMessage >= 0 && (nextPresence < 0 || nextMessage < nextPresence);
      const at = isMessage ? nextMessage : nextPresence;
      const end = this.stanzaEnd(data, at, isMessage ? MESSAGE_END : PRESENCE_END);
      if (end < 0) {
        this.pending = Buffer.from(data.subarray(at));
        return;
      }
      if (isMessage) this.onMessage(data, at, end);
      else this.onPresence(data, at);
      pos = end;
      if (nextMessage >= 0 && nextMessage < pos) nextMessage = data.indexOf(MESSAGE, pos);
      if (nextPresence >= 0 && nextPresence < pos) nextPresence = data.indexOf(PRESENCE, pos);
    }
    // A start tag cut at the chunk's end (`<mess`): keep the last few bytes.
    const tail = data.lastIndexOf(0x3c);
    if (tail >= pos && tail > data.length - PRESENCE.length) this.pending = Buffer.from(data.subarray(tail));
  }

  /** Where the stanza starting at `at` ends (past its end tag, or past a self-closed start tag); -1 if incomplete. */
  private stanzaEnd(data: Buffer, at: number, endTag: Buffer): number {
    const gt = data.indexOf(GT, at);
    if (gt < 0) return -1;
    if (data[gt - 1] === SLASH) return gt + 1;
    const close = data.indexOf(endTag, gt);
    return close < 0 ? -1 : close + endTag.length;
  }

  private onMessage(data: Buffer, at: number, end: number): void {
    const startTagEnd = data.indexOf(GT, at);
    const id = indexOfAny(data, ID_KEYS, at, startTagEnd);
    if (indexOfAny(data, ERROR_TYPES, at, startTagEnd)) {
      this.sink.error(errorCondition(data, at, end));
    } else if (id) {
      let n = 0;
      let i = id.at + id.length;
      for (let c = data[i]; c !== undefined && c >= 0x30 && c <= 0x39; c = data[++i]) n = n * 10 + (c - 0x30);
      const now = performance.now();
      this.sink.delivery(n, now);
      if (this.mine.delete(n)) this.sink.ack(n, now);
    } else if (this.sink.event && indexIn(data, COMPOSING, startTagEnd, end) >= 0) {
      this.sink.event('typing', nickFrom(data, at, startTagEnd), performance.now());
    }
  }

  /** A room member's presence (not the MUC join/leave bookkeeping of this socket itself). */
  private onPresence(data: Buffer, at: number): void {
    const startTagEnd = data.indexOf(GT, at);
    if (indexOfAny(data, ERROR_TYPES, at, startTagEnd)) return;
    this.sink.event!('presence', nickFrom(data, at, startTagEnd), performance.now());
  }
}

/** The resource of the `from` attribute (a MUC occupant's nickname), or '' when there is none. */
function nickFrom(data: Buffer, at: number, startTagEnd: number): string {
  const from = indexOfAny(data, FROM_KEYS, at, startTagEnd);
  if (!from) return '';
  const start = from.at + from.length;
  const quote = data[start - 1]!;
  const close = data.indexOf(quote, start);
  const slash = data.indexOf(SLASH, start);
  return slash < 0 || slash > close ? '' : data.toString('utf8', slash + 1, close);
}

/** The defined condition of an error stanza (rare: a regular expression is fine here). */
function errorCondition(data: Buffer, at: number, end: number): string {
  const text = data.toString('utf8', at, end);
  return /<([a-z-]+)\s+xmlns=['"]urn:ietf:params:xml:ns:xmpp-stanzas['"]/.exec(text)?.[1] ?? 'xmpp-error';
}

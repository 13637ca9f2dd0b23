// A minimal HTTP/1.1 keep-alive client for closed-loop load: one request at a time per
// connection, responses read into one reused buffer and counted, never kept.
//
// Why not node:http: every read there is a fresh Buffer (external memory), and at the
// history scenario's ~100 MB/s of responses V8 ran a full mark-compact in the load generator
// every ~150 ms, pausing it up to 17 ms with all eight requests in flight. Those pauses, not
// the server, were the scenario's p99. Reading into a single buffer (net's `onread`) leaves
// the generator almost nothing to collect.
import { connect, type Socket } from 'node:net';

export interface KeepAliveResponse {
  status: number;
  /** Milliseconds from writing the request to the last byte of the response. */
  ms: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');
/** Status lines and headers of our servers are well under this. */
const MAX_HEADER_BYTES = 16 * 1024;

export class KeepAliveClient {
  private readonly socket: Socket;
  private readonly connected: Promise<void>;
  private readonly readBuffer = Buffer.allocUnsafe(256 * 1024);
  private readonly header = Buffer.alloc(MAX_HEADER_BYTES);
  private headerBytes = 0;
  private bodyLeft = -1;
  private status = 0;
  private startedAt = 0;
  private pending: { resolve: (r: KeepAliveResponse) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly host: string,
    port: number,
  ) {
    this.socket = connect({
      host,
      port,
      noDelay: true,
      onread: { buffer: this.readBuffer, callback: (n) => this.onRead(n) },
    });
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Sends one request (the connection must be idle) and resolves when its response has arrived. */
  async request(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<KeepAliveResponse> {
    await this.connected;
    if (this.failure) throw this.failure;
    if (this.pending) throw new Error('a request is already in flight on this connection');
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.host}\r\nconnection: keep-alive\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    if (body !== undefined) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
    const response = new Promise<KeepAliveResponse>((resolve, reject) => (this.pending = { resolve, reject }));
    this.headerBytes = 0;
    this.bodyLeft = -1;
    this.startedAt = performance.now();
    this.socket.write(`${head}\r\n${body ?? ''}`);
    return response;
  }

  close(): void {
    this.socket.destroy();
  }

  private onRead(n: number): boolean {
    let offset = 0;
    if (this.bodyLeft < 0) offset = this.readHeader(this.readBuffer, n);
    if (this.bodyLeft >= 0 && offset >= 0) {
      this.bodyLeft -= n - offset;
      if (this.bodyLeft < 0) this.fail(new Error('the server sent more than content-length'));
      else if (this.bodyLeft === 0) this.finish();
    }
    return true;
  }

  /** Copies header bytes until the blank line; returns where the body starts in `buf`, or -1. */
  private readHeader(buf: Buffer, n: number): number {
    const room = MAX_HEADER_BYTES - this.headerBytes;
    const take = Math.min(n, room);
    buf.copy(this.header, this.headerBytes, 0, take);
    const searchFrom = Math.max(0, this.headerBytes - 3);
    this.headerBytes += take;
    const end = this.header.subarray(0, this.headerBytes).indexOf(HEADER_END, searchFrom);
    if (end < 0) {
      if (this.headerBytes === MAX_HEADER_BYTES) this.fail(new Error('response header too large'));
      return -1;
    }
    const text = this.header.toString('latin1', 0, end).toLowerCase();
    this.status = Number(text.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/.exec(text);
    if (!length) {
      this.fail(new Error('response without content-length (chunked responses are not supported)'));
      return -1;
    }
    this.bodyLeft = Number(length[1]);
    // The body's first bytes are in this read after the header.
    return end + HEADER_END.length - (this.headerBytes - take);
  }

  private finish(): void {
    const pending = this.pending;
    this.pending = undefined;
    this.bodyLeft = -1;
    pending?.resolve({ status: this.status, ms: performance.now() - this.startedAt });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
    this.socket.destroy();
  }
}

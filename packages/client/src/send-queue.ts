/** A frame waiting for its answer (`ack` or `error` with the same ref). */
export interface QueuedOp {
  readonly ref: string;
  /** The frame as it goes on the wire, `ref` included. */
  readonly frame: { op: string; ref: string; [field: string]: unknown };
  /**
   * Whether it may go out again on the next connection when the last one closed before the
   * answer came. True for what the server makes idempotent: `message.send` (the nonce), delete,
   * reactions, read cursors, presence. False for edits (each one adds a version) and for
   * `auth.refresh` (the next connection signs in with its own token).
   */
  readonly resendable: boolean;
  /** Written to a socket that is still open (it may be in flight). */
  sent: boolean;
  resolve(data: unknown): void;
  reject(error: Error): void;
}

/**
 * The offline queue: every frame from the moment it is asked for until it is answered, in the
 * order asked. Frames queued while disconnected go out after the next `ready`; resendable ones
 * that were in flight when a connection closed go out again (a `message.send` with the same
 * nonce, so the server answers with the original message instead of making a second one).
 */
export class SendQueue {
  private ops: QueuedOp[] = [];

  get size(): number {
    return this.ops.length;
  }

  /** Queues an op at the back, or at the front for control frames that must not wait. */
  add(op: QueuedOp, front = false): void {
    if (front) this.ops.unshift(op);
    else this.ops.push(op);
  }

  get(ref: string): QueuedOp | undefined {
    return this.ops.find((op) => op.ref === ref);
  }

  /** Removes and returns the op with this ref (its answer came). */
  take(ref: string): QueuedOp | undefined {
    const index = this.ops.findIndex((op) => op.ref === ref);
    if (index < 0) return undefined;
    return this.ops.splice(index, 1)[0];
  }

  /** The oldest op not yet written to the current socket. */
  nextUnsent(): QueuedOp | undefined {
    return this.ops.find((op) => !op.sent);
  }

  /** The server refused the frame without handling it (`rate_limited`): it goes out again. */
  unsend(ref: string): void {
    const op = this.get(ref);
    if (op) op.sent = false;
  }

  /**
   * The socket closed. Resendable ops in flight wait for the next connection; the others are
   * removed and returned, for the caller to reject (they may or may not have been applied).
   */
  connectionLost(): QueuedOp[] {
    const lost = this.ops.filter((op) => op.sent && !op.resendable);
    this.ops = this.ops.filter((op) => !lost.includes(op));
    for (const op of this.ops) op.sent = false;
    return lost;
  }

  /** Empties the queue (the client stopped); returns every op, for the caller to reject. */
  clear(): QueuedOp[] {
    const all = this.ops;
    this.ops = [];
    return all;
  }
}

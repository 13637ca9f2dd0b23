/**
 * What the gateway client needs of a WebSocket: the browser's `WebSocket` and the `ws`
 * package's both fit. Handlers take `never` so that either implementation's event types are
 * accepted; the client reads only `data` (text frames), `code` and `reason`.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The `readyState` of an open socket (the same in every implementation). */
export const WS_OPEN = 1;

export interface MessageEventLike {
  data: unknown;
}
export interface CloseEventLike {
  code: number;
  reason?: string;
}

/**
 * Limits shared by the server (which enforces them) and clients (which respect them before
 * sending). Numbers come from PRODUCT.md §12.
 */
export const LIMITS = {
  /** Largest JSON request body accepted by REST routes, in bytes. */
  jsonBodyBytes: 1024 * 1024,
  /** Largest message ciphertext, in bytes. */
  messageCiphertextBytes: 64 * 1024,
  /** Largest WebSocket frame, in bytes. */
  wsFrameBytes: 256 * 1024,
  /** Deepest JSON nesting accepted on the WebSocket. */
  jsonDepth: 32,
  /** Concurrent WebSocket connections per user (default; configurable). */
  socketsPerUser: 8,
} as const;

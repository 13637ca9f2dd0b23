/**
 * @chatalot/client: the SDK used by the web app, tests, benchmarks and bots. The typed REST
 * client, and accounts and sessions on top of it (AuthClient: sign-in, token refresh, account
 * and admin calls); the WebSocket client, resume, offline queue and end-to-end session
 * management build on it.
 */
export { ApiError } from './api-error.js';
export { HttpClient, type HttpClientOptions, type RequestOptions } from './http-client.js';
export { MemoryTokenStore, type TokenStore } from './token-store.js';
export { MessagesApi, type HistoryQueryInput, type MessagePageResult, type MessagesTransport } from './messages-api.js';
export {
  GatewayClient,
  type GatewayClientOptions,
  type GatewayEvent,
  type GatewayEvents,
  type GatewaySignedOut,
  type GatewayState,
  type PresenceStatus,
  type SendMessageInput,
} from './gateway-client.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { ChannelCursors, type ChannelCursor } from './cursors.js';
export { SendQueue, type QueuedOp } from './send-queue.js';
export { RateLimiter } from './rate-limiter.js';
export { tokenTimes } from './jwt.js';
export type { WebSocketConstructor, WebSocketLike } from './web-socket.js';
export {
  AccountApi,
  AdminApi,
  AuthClient,
  type AccountUser,
  type AuditPage,
  type AuditQueryInput,
  type AuthClientOptions,
  type ChangePasswordInput,
  type CreateInviteInput,
  type DeleteAccountInput,
  type LoginInput,
  type LoginOutcome,
  type Preferences,
  type ProfileUpdate,
  type RecoverInput,
  type RecoverOutcome,
  type RegisterInput,
  type RegistrationInvite,
  type SessionInfo,
  type SignedOutReason,
  type TotpConfirmInput,
} from './auth-client.js';
// End-to-end encryption: key storage, device registration, encrypted messaging (src/e2e/README.md).
export * from './e2e/index.js';
// The local store of decrypted messages and client-side search (src/store/message-store.ts).
export * from './store/index.js';

/**
 * @chatalot/protocol: the wire contract between the server and every client. Zod schemas and
 * their inferred types for REST bodies and WebSocket events, limits and error ids. No I/O.
 */
export * from './errors.js';
export * from './health.js';
export * from './limits.js';
export * from './accounts.js';
export * from './admin.js';
export * from './communities.js';
export * from './groups.js';
export * from './dms.js';
export * from './messages.js';
export * from './gateway.js';
export * from './keys.js';
export * from './device-messages.js';
export * from './provisioning.js';
export * from './device-name.js';

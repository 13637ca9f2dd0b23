/**
 * @chatalot/client: the SDK used by the web app, tests, benchmarks and bots. This first part
 * is the typed REST client; the WebSocket client, resume, offline queue and end-to-end session
 * management build on it.
 */
export { ApiError } from './api-error.js';
export { HttpClient, type HttpClientOptions, type RequestOptions } from './http-client.js';

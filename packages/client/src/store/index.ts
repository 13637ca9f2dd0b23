/** The device's store of decrypted messages and the search over it; see message-store.ts. */
export { MessageStore, type MessageLocation, type MessageStoreOptions } from './message-store.js';
export { SEARCH_LIMITS, type SearchHit, type SearchPage, type SearchQuery } from './search.js';
export { MAX_STORED_TEXT, storedMessage, type StoredMessage } from './stored-message.js';
export { normalizeTerm, type SnippetPart } from './text.js';

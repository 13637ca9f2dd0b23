/**
 * Search over the local store: a full-text index (MiniSearch) of the text and file names of
 * every stored message, and the query rules for chat:
 *
 * - every word must match (AND), diacritics and case ignored;
 * - a word of two letters or more also matches as a prefix ("engi" finds "engine");
 * - only when that finds nothing are typos forgiven (one edit from four letters, two from
 *   eight), and the page says it is `fuzzy`;
 * - filters: sender, channel, date range, has files; results newest first, in pages.
 */
import MiniSearch, { type SearchOptions } from 'minisearch';
import { z } from 'zod';
import type { StoredMessage } from './stored-message.js';
import { normalizeTerm, terms, tokenize, type SnippetPart } from './text.js';

export const SEARCH_LIMITS = {
  /** Characters of query text. */
  queryChars: 200,
  /** Words of query text used (the rest is ignored). */
  queryTerms: 12,
  defaultPageSize: 25,
  maxPageSize: 100,
} as const;

const Id = z.string().min(1).max(128);
export const SearchQuerySchema = z.object({
  /** Words to find; empty: every message that passes the filters. */
  text: z.string().max(SEARCH_LIMITS.queryChars).default(''),
  senderId: Id.optional(),
  channelId: Id.optional(),
  /** Sent at or after (ms since the epoch). */
  after: z.number().int().optional(),
  /** Sent before (ms since the epoch). */
  before: z.number().int().optional(),
  /** true: only messages with files; false: only without. */
  hasFile: z.boolean().optional(),
  offset: z.number().int().min(0).max(1_000_000).default(0),
  limit: z.number().int().min(1).max(SEARCH_LIMITS.maxPageSize).default(SEARCH_LIMITS.defaultPageSize),
});
export type SearchQuery = z.input<typeof SearchQuerySchema>;
type ParsedQuery = z.output<typeof SearchQuerySchema>;

export interface SearchHit {
  message: StoredMessage;
  /** The text around the first match, matched words marked. Empty for a message without text. */
  snippet: SnippetPart[];
}

export interface SearchPage {
  hits: SearchHit[];
  /** How many messages match in all. */
  total: number;
  /** The offset of the next page, or null when this was the last. */
  nextOffset: number | null;
  /** Nothing matched exactly, so these are near matches (typos forgiven). */
  fuzzy: boolean;
}

/** What the index holds per message (the message itself stays in the store's blocks). */
interface IndexedDoc {
  id: string;
  text: string;
  files: string;
}

export type MessageIndex = MiniSearch<IndexedDoc>;

export function createIndex(): MessageIndex {
  return new MiniSearch<IndexedDoc>({
    fields: ['text', 'files'],
    storeFields: [],
    tokenize,
    processTerm: (term) => normalizeTerm(term) || null,
    // Discarded documents are cleaned out in the background, a batch at a time.
    autoVacuum: { batchSize: 1000, batchWait: 10, minDirtCount: 200, minDirtFactor: 0.1 },
  });
}

export function indexedDoc(m: StoredMessage): IndexedDoc {
  return { id: m.id, text: m.text, files: m.file_names.join(' ') };
}

export function parseQuery(input: SearchQuery): ParsedQuery & { terms: string[] } {
  const parsed = SearchQuerySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RangeError(`invalid search: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
  }
  return { ...parsed.data, terms: terms(parsed.data.text).slice(0, SEARCH_LIMITS.queryTerms) };
}

/** Whether a message passes the query's filters (and has not expired). */
export function passes(q: ParsedQuery, m: StoredMessage, now: number): boolean {
  return (
    (q.senderId === undefined || m.sender_id === q.senderId) &&
    (q.channelId === undefined || m.channel_id === q.channelId) &&
    (q.after === undefined || m.created_at >= q.after) &&
    (q.before === undefined || m.created_at < q.before) &&
    (q.hasFile === undefined || m.file_names.length > 0 === q.hasFile) &&
    (m.expires_at === null || m.expires_at > now)
  );
}

const strict: SearchOptions = {
  combineWith: 'AND',
  prefix: (term) => term.length >= 2,
  fuzzy: false,
};
const tolerant: SearchOptions = {
  ...strict,
  fuzzy: (term) => (term.length >= 8 ? 2 : term.length >= 4 ? 1 : false),
};

/** A match: the message and the document terms that matched (for the snippet). */
export interface Match {
  message: StoredMessage;
  terms: readonly string[];
}

/**
 * The messages matching `terms` (exactly or by prefix; else with typos forgiven) that `keep`
 * accepts, unordered.
 */
export function findMatches(
  index: MessageIndex,
  words: readonly string[],
  lookup: (id: string) => StoredMessage | undefined,
  keep: (m: StoredMessage) => boolean,
): { matches: Match[]; fuzzy: boolean } {
  const query = words.join(' ');
  const filter = (r: { id: unknown }) => {
    const m = lookup(r.id as string);
    return m !== undefined && keep(m);
  };
  let results = index.search(query, { ...strict, filter });
  let fuzzy = false;
  if (results.length === 0 && words.some((w) => w.length >= 4)) {
    results = index.search(query, { ...tolerant, filter });
    fuzzy = results.length > 0;
  }
  const matches: Match[] = [];
  for (const r of results) {
    const message = lookup(r.id as string);
    if (message) matches.push({ message, terms: r.terms });
  }
  return { matches, fuzzy };
}

/** Newest first; messages sent in the same millisecond by channel order. */
export function newestFirst(a: Match, b: Match): number {
  return (
    b.message.created_at - a.message.created_at ||
    b.message.seq - a.message.seq ||
    (a.message.id < b.message.id ? 1 : a.message.id > b.message.id ? -1 : 0)
  );
}

/**
 * The search panel's state: whether it is open, the query and its filters, and the results
 * from the local message store (newest first, a page at a time). Typing searches after a short
 * pause; a newer search makes an older one's answer irrelevant.
 */
import { SEARCH_LIMITS, type SearchHit, type SearchQuery } from '@chatalot/client';
import { dayEnd, dayStart } from './dates';
import { localSearch } from './local-search.svelte';

const DEBOUNCE_MS = 150;
const PAGE = 25;

class SearchState {
  open = $state(false);
  text = $state('');
  /** Filters; empty strings mean "any". */
  senderId = $state('');
  channelId = $state('');
  /** `yyyy-mm-dd`, from a date input. */
  from = $state('');
  to = $state('');
  hasFile = $state(false);

  hits = $state.raw<SearchHit[]>([]);
  total = $state(0);
  fuzzy = $state(false);
  nextOffset = $state<number | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);
  /** A search ran for the current query (the empty state can tell "nothing found"). */
  searched = $state(false);

  private timer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;
  private returnFocus: HTMLElement | null = null;

  get hasQuery(): boolean {
    return (
      this.text.trim() !== '' ||
      this.senderId !== '' ||
      this.channelId !== '' ||
      this.from !== '' ||
      this.to !== '' ||
      this.hasFile
    );
  }

  show(): void {
    if (!this.open) this.returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.open = true;
    // Reading the store and building the index takes a moment the first time: start now.
    void localSearch.store?.warm().catch(() => undefined);
  }

  hide(): void {
    this.open = false;
    // Back to where the reader was (the search button, or the composer for Ctrl+F).
    const back = this.returnFocus;
    this.returnFocus = null;
    if (back) setTimeout(() => back.isConnected && back.focus(), 0);
  }

  clearFilters(): void {
    this.senderId = '';
    this.channelId = '';
    this.from = '';
    this.to = '';
    this.hasFile = false;
    this.changed();
  }

  /** The query or a filter changed: search again shortly. */
  changed(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run(0);
    }, DEBOUNCE_MS);
  }

  loadMore(): Promise<void> {
    return this.nextOffset === null ? Promise.resolve() : this.run(this.nextOffset);
  }

  private query(offset: number): SearchQuery {
    const after = dayStart(this.from);
    const before = dayEnd(this.to);
    return {
      text: this.text.slice(0, SEARCH_LIMITS.queryChars),
      offset,
      limit: PAGE,
      ...(this.senderId ? { senderId: this.senderId } : {}),
      ...(this.channelId ? { channelId: this.channelId } : {}),
      ...(after !== undefined ? { after } : {}),
      ...(before !== undefined ? { before } : {}),
      ...(this.hasFile ? { hasFile: true } : {}),
    };
  }

  private async run(offset: number): Promise<void> {
    const generation = ++this.generation;
    const store = localSearch.store;
    if (!this.hasQuery || !store) {
      this.hits = [];
      this.total = 0;
      this.nextOffset = null;
      this.searched = false;
      this.busy = false;
      return;
    }
    this.busy = true;
    this.error = null;
    try {
      const page = await store.search(this.query(offset));
      if (generation !== this.generation) return;
      this.hits = offset === 0 ? page.hits : [...this.hits, ...page.hits];
      this.total = page.total;
      this.fuzzy = page.fuzzy;
      this.nextOffset = page.nextOffset;
      this.searched = true;
    } catch {
      if (generation === this.generation) this.error = 'The search could not run. Try other words.';
    } finally {
      if (generation === this.generation) this.busy = false;
    }
  }
}

/** The app's one search panel. */
export const search = new SearchState();

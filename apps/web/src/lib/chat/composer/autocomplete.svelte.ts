/**
 * The state of the composer's popup: the trigger at the caret, its rows, the active row, and a
 * trigger the person closed with Escape (it stays closed while they type on, until they start
 * another). Created during the composer's set-up, whose text, caret and members it reads.
 */
import { applySlashCommand } from './commands';
import { loadEmoji, type EmojiIndex } from './emoji';
import type { Mentionable } from './mentions';
import { suggestionsFor, type Suggestion } from './suggestions';
import { findTrigger, type Trigger } from './triggers';

export interface AutocompleteSource {
  text: () => string;
  caret: () => number;
  members: () => readonly Mentionable[];
  everyone: () => boolean;
  /** Another popup (the emoji picker) is open: this one stays closed. */
  suppressed: () => boolean;
}

const LABELS: Record<Trigger['kind'], string> = { emoji: 'Emoji', mention: 'People', command: 'Commands' };

export class Autocomplete {
  /** The emoji data, once the first shortcode was typed (also used for `:code:` typed in full). */
  emoji = $state.raw<EmojiIndex | null>(null);
  active = $state(0);
  private dismissed = $state<string | null>(null);
  private readonly source: AutocompleteSource;
  readonly trigger: Trigger | null;
  private readonly key: string | null;
  readonly items: Suggestion[];
  readonly open: boolean;
  readonly label: string;

  constructor(source: AutocompleteSource) {
    this.source = source;
    this.trigger = $derived(findTrigger(source.text(), source.caret()));
    this.key = $derived(this.trigger ? `${this.trigger.kind}@${this.trigger.start}` : null);
    this.items = $derived(
      suggestionsFor(this.trigger, { emoji: this.emoji, members: source.members(), everyone: source.everyone() }),
    );
    this.open = $derived(this.items.length > 0 && this.key !== this.dismissed && !source.suppressed());
    this.label = $derived(this.trigger ? LABELS[this.trigger.kind] : '');

    // New rows: start from the best one.
    $effect(() => {
      void this.items;
      this.active = 0;
    });

    // The emoji data is read the first time a shortcode is typed (a chunk of its own).
    $effect(() => {
      if (this.trigger?.kind !== 'emoji' || this.emoji) return;
      loadEmoji().then(
        (index) => (this.emoji = index),
        () => undefined, // Offline: no popup; typing goes on.
      );
    });
  }

  /** After the caret moved: a popup closed with Escape opens again for another trigger. */
  caretMoved(): void {
    if (this.dismissed !== null && this.key !== this.dismissed) this.dismissed = null;
  }

  /** Closes the popup for the current trigger (Escape, or the box lost the focus). */
  dismiss(): void {
    this.dismissed = this.key;
  }

  reset(): void {
    this.dismissed = null;
  }

  /**
   * The popup's keys: ↑/↓ choose, Escape closes, Tab or Enter pick (through `pick`). True when
   * the key was used here.
   */
  keydown(event: KeyboardEvent, pick: (trigger: Trigger, row: Suggestion) => void): boolean {
    const trigger = this.trigger;
    if (!this.open || !trigger) return false;
    const n = this.items.length;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      this.active = (this.active + (event.key === 'ArrowDown' ? 1 : n - 1)) % n;
      return true;
    }
    if (event.key === 'Escape') {
      this.dismiss();
      return true;
    }
    if ((event.key !== 'Tab' && event.key !== 'Enter') || event.shiftKey) return false;
    const row = this.items[this.active];
    if (!row) return false;
    // "/shrug" typed in full and Enter: nothing to complete, so it sends ("/me" alone waits for
    // its action).
    const typedInFull = trigger.kind === 'command' && row.insert === `/${trigger.query.toLowerCase()}`;
    if (event.key === 'Enter' && typedInFull && applySlashCommand(this.source.text().trim()) !== null) return false;
    pick(trigger, row);
    return true;
  }
}

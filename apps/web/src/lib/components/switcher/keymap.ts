/**
 * The app's global keyboard shortcuts (PRODUCT.md §4 and §10): which key press means what, and
 * the list the help dialog (Ctrl+/) shows. Plain TypeScript, tested without a browser.
 *
 * Inside a text field only Ctrl+K works, so typing (and the composer's own keys) is never taken
 * over. Ctrl+F is left alone: message search uses it.
 */

export type ShortcutAction =
  'switcher' | 'help' | 'previous-channel' | 'next-channel' | 'previous-unread' | 'next-unread' | 'mark-all-read';

export interface KeyPress {
  key: string;
  code?: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

/** The action a key press asks for, if any. `inTextField`: the focus is somewhere people type. */
export function shortcutFor(event: KeyPress, inTextField: boolean): ShortcutAction | null {
  const mod = event.ctrlKey || event.metaKey;
  if (mod && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'k') return 'switcher';
  if (inTextField) return null;
  // "/" needs Shift on some layouts (German: Shift+7), so Shift is allowed with it.
  if (mod && !event.altKey && (event.key === '/' || (event.code === 'Slash' && !event.shiftKey))) return 'help';
  if (event.altKey && !mod && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
    const up = event.key === 'ArrowUp';
    if (event.shiftKey) return up ? 'previous-unread' : 'next-unread';
    return up ? 'previous-channel' : 'next-channel';
  }
  if (event.key === 'Escape' && event.shiftKey && !mod && !event.altKey) return 'mark-all-read';
  return null;
}

/** Whether an element is one people type into (where shortcuts other than Ctrl+K stay off). */
export function isTextField(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).closest !== 'function') return false;
  const el = target as HTMLElement;
  if (el.isContentEditable) return true;
  if (el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
  if (el.tagName !== 'INPUT') return false;
  const type = (el as HTMLInputElement).type;
  return !['button', 'checkbox', 'radio', 'range', 'submit', 'reset', 'color', 'file', 'image'].includes(type);
}

export interface ShortcutHelp {
  /** Keys, each one a <kbd>: ['Ctrl', 'K']. */
  keys: string[];
  description: string;
}

/** Keys as people on this platform read them: ⌘ and ⌥ on a Mac. */
export function keyLabel(key: string, mac: boolean): string {
  if (!mac) return key;
  return ({ Ctrl: '⌘', Alt: '⌥', Shift: '⇧' } as Record<string, string>)[key] ?? key;
}

/** What the help dialog lists, grouped. */
export const SHORTCUT_HELP: { title: string; items: ShortcutHelp[] }[] = [
  {
    title: 'Getting around',
    items: [
      { keys: ['Ctrl', 'K'], description: 'Quick switcher: jump to a channel, community or conversation' },
      { keys: ['Alt', '↑'], description: 'Previous channel or conversation' },
      { keys: ['Alt', '↓'], description: 'Next channel or conversation' },
      { keys: ['Alt', 'Shift', '↑'], description: 'Previous unread channel or conversation' },
      { keys: ['Alt', 'Shift', '↓'], description: 'Next unread channel or conversation' },
    ],
  },
  {
    title: 'Reading',
    items: [{ keys: ['Shift', 'Esc'], description: 'Mark everything read' }],
  },
  {
    title: 'General',
    items: [
      { keys: ['Ctrl', '/'], description: 'Show these keyboard shortcuts' },
      { keys: ['Esc'], description: 'Close a dialog, menu or drawer' },
    ],
  },
];

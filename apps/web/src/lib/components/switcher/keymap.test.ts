import { describe, expect, it } from 'vitest';
import { type KeyPress, isTextField, keyLabel, shortcutFor } from './keymap';

const press = (key: string, mods: Partial<KeyPress> = {}): KeyPress => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...mods,
});

describe('shortcutFor', () => {
  it('opens the switcher with Ctrl+K or ⌘K, even while typing', () => {
    expect(shortcutFor(press('k', { ctrlKey: true }), false)).toBe('switcher');
    expect(shortcutFor(press('K', { metaKey: true }), true)).toBe('switcher');
    expect(shortcutFor(press('k', { ctrlKey: true, shiftKey: true }), false)).toBeNull();
  });

  it('maps Alt+arrows to channels and Alt+Shift+arrows to unread ones', () => {
    expect(shortcutFor(press('ArrowUp', { altKey: true }), false)).toBe('previous-channel');
    expect(shortcutFor(press('ArrowDown', { altKey: true }), false)).toBe('next-channel');
    expect(shortcutFor(press('ArrowUp', { altKey: true, shiftKey: true }), false)).toBe('previous-unread');
    expect(shortcutFor(press('ArrowDown', { altKey: true, shiftKey: true }), false)).toBe('next-unread');
    expect(shortcutFor(press('ArrowDown', { altKey: true, ctrlKey: true }), false)).toBeNull();
  });

  it('marks everything read with Shift+Esc and shows help with Ctrl+/', () => {
    expect(shortcutFor(press('Escape', { shiftKey: true }), false)).toBe('mark-all-read');
    expect(shortcutFor(press('Escape'), false)).toBeNull();
    expect(shortcutFor(press('/', { ctrlKey: true }), false)).toBe('help');
    expect(shortcutFor(press('/', { ctrlKey: true, shiftKey: true, code: 'Digit7' }), false)).toBe('help');
  });

  it('leaves everything but Ctrl+K to a text field, and never takes Ctrl+F', () => {
    for (const p of [
      press('ArrowUp', { altKey: true }),
      press('Escape', { shiftKey: true }),
      press('/', { ctrlKey: true }),
    ]) {
      expect(shortcutFor(p, true)).toBeNull();
    }
    expect(shortcutFor(press('f', { ctrlKey: true }), false)).toBeNull();
  });
});

describe('isTextField', () => {
  const el = (tagName: string, extra: Record<string, unknown> = {}) =>
    ({ tagName, closest: () => null, isContentEditable: false, ...extra }) as unknown as EventTarget;

  it('knows where people type', () => {
    expect(isTextField(el('TEXTAREA'))).toBe(true);
    expect(isTextField(el('INPUT', { type: 'search' }))).toBe(true);
    expect(isTextField(el('DIV', { isContentEditable: true }))).toBe(true);
    expect(isTextField(el('INPUT', { type: 'checkbox' }))).toBe(false);
    expect(isTextField(el('BUTTON'))).toBe(false);
    expect(isTextField(null)).toBe(false);
  });
});

describe('keyLabel', () => {
  it('shows Mac modifier symbols on a Mac only', () => {
    expect(keyLabel('Ctrl', true)).toBe('⌘');
    expect(keyLabel('Ctrl', false)).toBe('Ctrl');
    expect(keyLabel('K', true)).toBe('K');
  });
});

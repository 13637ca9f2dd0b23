/**
 * Light / dark / system colour theme and the accent colour. The choices are kept in localStorage
 * and shown as `<html data-theme="light|dark" data-accent="…">`; with "system" the theme attribute
 * is removed and CSS follows `prefers-color-scheme`, and the default accent (teal) has no
 * attribute (src/app.css). static/theme-init.js applies the saved choices before the first paint
 * with the same keys and attributes; this module takes over once the app runs. Signed in, the
 * choices also travel with the account (`theme` and `accent` in the synced preferences), so
 * another device picks them up when it signs in.
 */
import { session } from '$lib/session.svelte';

export type ThemePreference = 'system' | 'light' | 'dark';

export const THEME_PREFERENCES: readonly ThemePreference[] = ['system', 'light', 'dark'];
export const THEME_STORAGE_KEY = 'chatalot.theme';
export const ACCENT_STORAGE_KEY = 'chatalot.accent';

/** The eight accent colours (PRODUCT.md §10); `swatch` is the light-theme shade, for the picker. */
export const ACCENTS = [
  { value: 'teal', label: 'Teal', swatch: '#0f766e' },
  { value: 'blue', label: 'Blue', swatch: '#1d4ed8' },
  { value: 'indigo', label: 'Indigo', swatch: '#4338ca' },
  { value: 'violet', label: 'Violet', swatch: '#6d28d9' },
  { value: 'pink', label: 'Pink', swatch: '#be185d' },
  { value: 'red', label: 'Red', swatch: '#b91c1c' },
  { value: 'orange', label: 'Orange', swatch: '#c2410c' },
  { value: 'green', label: 'Green', swatch: '#15803d' },
] as const;
export type Accent = (typeof ACCENTS)[number]['value'];
export const DEFAULT_ACCENT: Accent = 'teal';

export function isAccent(value: unknown): value is Accent {
  return ACCENTS.some((a) => a.value === value);
}

/** Browser UI colour (`<meta name="theme-color">`) for each theme; matches `--color-bg`. */
const THEME_COLOR = { light: '#f6f7f7', dark: '#0f1315' } as const;

export function isThemePreference(value: unknown): value is ThemePreference {
  return value === 'system' || value === 'light' || value === 'dark';
}

function readSavedAccent(): Accent {
  try {
    const saved = localStorage.getItem(ACCENT_STORAGE_KEY);
    return isAccent(saved) ? saved : DEFAULT_ACCENT;
  } catch {
    return DEFAULT_ACCENT;
  }
}

function saveAccent(accent: Accent): void {
  try {
    if (accent === DEFAULT_ACCENT) localStorage.removeItem(ACCENT_STORAGE_KEY);
    else localStorage.setItem(ACCENT_STORAGE_KEY, accent);
  } catch {
    // Blocked storage: the choice lasts for this page only.
  }
}

function applyAccent(accent: Accent): void {
  const root = document.documentElement;
  if (accent === DEFAULT_ACCENT) root.removeAttribute('data-accent');
  else root.setAttribute('data-accent', accent);
}

function readSaved(): ThemePreference {
  try {
    const saved = localStorage.getItem(THEME_STORAGE_KEY);
    return isThemePreference(saved) ? saved : 'system';
  } catch {
    return 'system';
  }
}

function save(preference: ThemePreference): void {
  try {
    if (preference === 'system') localStorage.removeItem(THEME_STORAGE_KEY);
    else localStorage.setItem(THEME_STORAGE_KEY, preference);
  } catch {
    // Storage can be blocked; the choice then lasts for this page only.
  }
}

function apply(preference: ThemePreference): void {
  const root = document.documentElement;
  if (preference === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', preference);

  // The two theme-color metas in app.html are keyed by media query; an explicit choice overrides both.
  for (const meta of document.querySelectorAll<HTMLMetaElement>('meta[name="theme-color"]')) {
    const scheme = meta.media.includes('dark') ? 'dark' : 'light';
    meta.content = THEME_COLOR[preference === 'system' ? scheme : preference];
  }
}

class Theme {
  preference = $state<ThemePreference>('system');
  accent = $state<Accent>(DEFAULT_ACCENT);

  /** Reads the saved choices, applies them and follows changes made in other tabs. */
  init(): () => void {
    this.preference = readSaved();
    this.accent = readSavedAccent();
    apply(this.preference);
    applyAccent(this.accent);
    const onStorage = (event: StorageEvent) => {
      if (event.key !== THEME_STORAGE_KEY && event.key !== ACCENT_STORAGE_KEY && event.key !== null) return;
      this.preference = readSaved();
      this.accent = readSavedAccent();
      apply(this.preference);
      applyAccent(this.accent);
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }

  set(preference: ThemePreference, sync = true): void {
    this.preference = preference;
    save(preference);
    apply(preference);
    if (sync) this.push();
  }

  setAccent(accent: Accent, sync = true): void {
    this.accent = accent;
    saveAccent(accent);
    applyAccent(accent);
    if (sync) this.push();
  }

  /** Takes the choices saved with the account (after signing in on this device). */
  async pull(): Promise<void> {
    try {
      const prefs = await session.client.account.preferences();
      if (isThemePreference(prefs.theme) && prefs.theme !== this.preference) this.set(prefs.theme, false);
      if (isAccent(prefs.accent) && prefs.accent !== this.accent) this.setAccent(prefs.accent, false);
    } catch {
      // Offline or signed out meanwhile: the local choices stay.
    }
  }

  /** Saves the choices with the account, best effort. */
  private push(): void {
    if (session.status !== 'signed_in') return;
    session.client.account.updatePreferences({ theme: this.preference, accent: this.accent }).catch(() => undefined);
  }
}

/** The app's one theme state. */
export const theme = new Theme();

/**
 * Light / dark / system colour theme. The choice is kept in localStorage and shown as
 * `<html data-theme="light|dark">`; with "system" the attribute is removed and CSS follows
 * `prefers-color-scheme` (src/app.css). static/theme-init.js applies the saved choice before the
 * first paint with the same key and attribute; this module takes over once the app runs.
 */

export type ThemePreference = 'system' | 'light' | 'dark';

export const THEME_PREFERENCES: readonly ThemePreference[] = ['system', 'light', 'dark'];
export const THEME_STORAGE_KEY = 'chatalot.theme';

/** Browser UI colour (`<meta name="theme-color">`) for each theme; matches `--color-bg`. */
const THEME_COLOR = { light: '#f6f7f7', dark: '#0f1315' } as const;

export function isThemePreference(value: unknown): value is ThemePreference {
  return value === 'system' || value === 'light' || value === 'dark';
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

  /** Reads the saved choice, applies it and follows changes made in other tabs. */
  init(): () => void {
    this.preference = readSaved();
    apply(this.preference);
    const onStorage = (event: StorageEvent) => {
      if (event.key !== THEME_STORAGE_KEY && event.key !== null) return;
      this.preference = readSaved();
      apply(this.preference);
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }

  set(preference: ThemePreference): void {
    this.preference = preference;
    save(preference);
    apply(preference);
  }
}

/** The app's one theme state. */
export const theme = new Theme();

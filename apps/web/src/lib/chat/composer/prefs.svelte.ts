/**
 * The composer's own preference: whether the formatting toolbar is shown (PRODUCT.md §10,
 * "formatting toolbar toggle"). Kept in localStorage like the theme (theme.svelte.ts), and
 * followed across tabs.
 */

export const TOOLBAR_STORAGE_KEY = 'chatalot.composer.toolbar';

function readSaved(): boolean {
  try {
    return localStorage.getItem(TOOLBAR_STORAGE_KEY) === 'shown';
  } catch {
    return false;
  }
}

class ComposerPrefs {
  /** Hidden by default: the shortcuts work either way. */
  toolbar = $state(typeof localStorage === 'undefined' ? false : readSaved());

  constructor() {
    if (typeof window === 'undefined') return;
    window.addEventListener('storage', (event) => {
      if (event.key === TOOLBAR_STORAGE_KEY || event.key === null) this.toolbar = readSaved();
    });
  }

  setToolbar(shown: boolean): void {
    this.toolbar = shown;
    try {
      if (shown) localStorage.setItem(TOOLBAR_STORAGE_KEY, 'shown');
      else localStorage.removeItem(TOOLBAR_STORAGE_KEY);
    } catch {
      // Blocked storage: the choice lasts for this page only.
    }
  }
}

/** The app's one set of composer preferences. */
export const composerPrefs = new ComposerPrefs();

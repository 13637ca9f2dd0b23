// Applies the saved colour theme before the first paint. Loaded as a blocking classic script
// from <head> (src/app.html), so it needs no CSP hash. Keep it tiny and in sync with
// src/lib/theme.svelte.ts (same storage key, same attribute). With no saved choice the page
// follows the system setting through CSS `prefers-color-scheme`.
(function () {
  try {
    var saved = localStorage.getItem('chatalot.theme');
    if (saved === 'light' || saved === 'dark') document.documentElement.setAttribute('data-theme', saved);
  } catch {
    // Storage can be blocked (private mode, policies): the system theme applies.
  }
})();

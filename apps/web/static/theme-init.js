// Applies the saved colour theme and accent before the first paint. Loaded as a blocking classic
// script from <head> (src/app.html), so it needs no CSP hash. Keep it tiny and in sync with
// src/lib/theme.svelte.ts (same storage keys, same attributes). With no saved theme the page
// follows the system setting through CSS `prefers-color-scheme`; with no saved accent it is teal.
(function () {
  try {
    var root = document.documentElement;
    var saved = localStorage.getItem('chatalot.theme');
    if (saved === 'light' || saved === 'dark') root.setAttribute('data-theme', saved);
    var accent = localStorage.getItem('chatalot.accent');
    if (accent && /^(blue|indigo|violet|pink|red|orange|green)$/.test(accent)) root.setAttribute('data-accent', accent);
  } catch {
    // Storage can be blocked (private mode, policies): the system theme and default accent apply.
  }
})();

/**
 * Shared Tailwind class lists for form controls and buttons, so every screen looks the same.
 * Colours come from the theme variables in src/app.css.
 */
const button =
  'inline-flex items-center justify-center gap-2 rounded-lg px-4 py-2.5 text-sm font-semibold shadow-xs transition-colors disabled:cursor-not-allowed disabled:opacity-60';

export const ui = {
  input:
    'block w-full rounded-lg border border-border bg-surface px-3 py-2.5 text-base text-text shadow-xs transition-colors placeholder:text-muted/70 hover:border-muted/60 focus-visible:border-accent aria-invalid:border-danger sm:text-sm',
  primary: `${button} bg-accent text-accent-fg hover:bg-accent-hover`,
  secondary: `${button} border border-border bg-surface text-text hover:bg-surface-2`,
  danger: `${button} bg-danger text-bg hover:opacity-90`,
  dangerOutline: `${button} border border-danger/50 bg-surface text-danger hover:bg-danger-soft`,
  small: 'px-3 py-1.5',
  link: 'rounded font-medium text-accent underline-offset-4 hover:underline',
  card: 'rounded-2xl border border-border bg-surface p-5 shadow-sm sm:p-7',
  label: 'block text-sm font-medium text-text',
  hint: 'mt-1.5 text-sm text-muted',
  error: 'mt-1.5 text-sm font-medium text-danger',
} as const;

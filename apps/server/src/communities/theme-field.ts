import { communityThemeScope, normalizeTheme } from './theme/theme.js';

/**
 * The theme column for a PATCH: `null` resets it; anything else is validated and its CSS
 * sanitised and scoped to the community's own view, or refused with `validation_error`
 * (paths under `theme.`), so nothing unsafe is ever stored.
 */
export function themeForStorage(input: unknown, communityId: string): string {
  if (input === null) return '{}';
  return JSON.stringify(normalizeTheme(input, communityThemeScope(communityId), { path: 'theme' }));
}

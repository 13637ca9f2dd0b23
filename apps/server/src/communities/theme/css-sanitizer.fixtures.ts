import type { SanitizeCssOptions } from './css-sanitizer.js';
import { sanitizeCommunityCss } from './css-sanitizer.js';

/** What both sanitizer suites (the corpus and the property tests) sanitise with. */
export const S = '[data-community-theme="c1"]';
export const OPTIONS: SanitizeCssOptions = { scope: S, assetUrlPrefix: '/api/assets/', keyframesPrefix: 'kf-' };
export const ASSET = `/api/assets/${'a'.repeat(64)}.png`;

export const sanitize = (css: string, options: SanitizeCssOptions = OPTIONS) => sanitizeCommunityCss(css, options);

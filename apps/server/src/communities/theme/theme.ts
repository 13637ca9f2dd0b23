import * as csstree from 'css-tree';
import type { CssNode } from 'css-tree';
import { z } from 'zod';
import type { ValidationIssue } from '@chatalot/protocol';
import { AppError } from '../../errors.js';
import { MAX_CSS_BYTES, sanitizeCommunityCss } from './css-sanitizer.js';

/**
 * A community's theme (PRODUCT.md §3, §10): seven colour variables and custom CSS that the web
 * app applies only inside the community's own view. Every field is optional, so a community may
 * set only some colours, only CSS, or nothing.
 */

export const THEME_COLOR_NAMES = ['background', 'surface', 'text', 'muted', 'accent', 'accent_text', 'border'] as const;
export type ThemeColorName = (typeof THEME_COLOR_NAMES)[number];

/** The stored (normalised) form of a theme. */
export interface StoredCommunityTheme {
  colors: Partial<Record<ThemeColorName, string>>;
  /** Sanitised, scoped, minified CSS; empty when the community has none. */
  css: string;
}

export const DEFAULT_ASSET_URL_PREFIX = '/api/assets/';

const HEX_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;
const COLOR_FUNCTION = /^(?:rgba?|hsla?)$/i;
const ANGLE_UNITS = new Set(['deg', 'rad', 'grad', 'turn']);
const MAX_COLOR_LENGTH = 64;

const num = (value: string) => Number(value);
const inRange = (value: number, min: number, max: number) => Number.isFinite(value) && value >= min && value <= max;

/** One colour component: `kind` says what the position accepts. */
function componentOk(node: CssNode, kind: 'rgb' | 'hue' | 'percent' | 'alpha'): boolean {
  switch (kind) {
    case 'rgb':
      return (
        (node.type === 'Number' && inRange(num(node.value), 0, 255)) ||
        (node.type === 'Percentage' && inRange(num(node.value), 0, 100))
      );
    case 'hue':
      return (
        (node.type === 'Number' && Number.isFinite(num(node.value))) ||
        (node.type === 'Dimension' && ANGLE_UNITS.has(node.unit.toLowerCase()) && Number.isFinite(num(node.value)))
      );
    case 'percent':
      return (
        (node.type === 'Percentage' && inRange(num(node.value), 0, 100)) ||
        (node.type === 'Number' && inRange(num(node.value), 0, 100))
      );
    case 'alpha':
      return (
        (node.type === 'Number' && inRange(num(node.value), 0, 1)) ||
        (node.type === 'Percentage' && inRange(num(node.value), 0, 100))
      );
  }
}

/**
 * Validates a colour and returns its canonical form, or `undefined` when it is not one of:
 * `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb()`/`rgba()`/`hsl()`/`hsla()` with literal
 * components (comma or space syntax, optional alpha; no `var()`, `calc()` or keywords).
 */
export function normalizeColor(raw: string): string | undefined {
  const text = raw.trim();
  if (!text || text.length > MAX_COLOR_LENGTH) return undefined;
  if (HEX_COLOR.test(text)) return text.toLowerCase();

  let errors = 0;
  let ast: CssNode;
  try {
    ast = csstree.parse(text, { context: 'value', onParseError: () => errors++ });
  } catch {
    return undefined;
  }
  if (errors || ast.type !== 'Value') return undefined;
  const nodes = ast.children.toArray();
  const fn = nodes[0];
  // The raw name must be plain letters: escaped names (`rg\62()`) are refused, not decoded.
  if (nodes.length !== 1 || fn?.type !== 'Function' || !COLOR_FUNCTION.test(fn.name)) return undefined;
  const name = fn.name.toLowerCase();
  const hsl = name.startsWith('hsl');

  const args = fn.children.toArray();
  const components = args.filter((n) => n.type !== 'Operator');
  const operators = args.filter((n) => n.type === 'Operator').map((n) => (n.type === 'Operator' ? n.value : ''));
  if (components.length !== 3 && components.length !== 4) return undefined;

  const legacy = operators.length > 0 && operators.every((op) => op === ',');
  if (legacy) {
    // a, b, c[, alpha]: operators strictly between components.
    if (operators.length !== components.length - 1) return undefined;
    for (let i = 0; i < args.length; i++) {
      if ((args[i]!.type === 'Operator') !== (i % 2 === 1)) return undefined;
    }
  } else {
    // a b c[ / alpha]
    const expected = components.length === 4 ? ['/'] : [];
    if (operators.length !== expected.length || operators.some((op, i) => op !== expected[i])) return undefined;
    if (components.length === 4 && args[3]?.type !== 'Operator') return undefined;
  }
  const kinds = hsl ? (['hue', 'percent', 'percent'] as const) : (['rgb', 'rgb', 'rgb'] as const);
  for (let i = 0; i < 3; i++) if (!componentOk(components[i]!, kinds[i]!)) return undefined;
  if (legacy && hsl && (components[1]!.type !== 'Percentage' || components[2]!.type !== 'Percentage')) {
    return undefined;
  }
  // Legacy rgb() takes three numbers or three percentages, not a mix.
  if (legacy && !hsl && new Set(components.slice(0, 3).map((n) => n.type)).size !== 1) return undefined;
  if (components.length === 4 && !componentOk(components[3]!, 'alpha')) return undefined;

  fn.name = name;
  return csstree.generate(ast);
}

const ThemeColor = z
  .string()
  .max(MAX_COLOR_LENGTH)
  .transform((value, ctx) => {
    const color = normalizeColor(value);
    if (color === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'Must be a colour: #rgb, #rrggbb, #rrggbbaa, rgb(…), rgba(…), hsl(…) or hsla(…)',
      });
      return z.NEVER;
    }
    return color;
  })
  .describe('A CSS colour: `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb()`, `rgba()`, `hsl()` or `hsla()`.');

export const CommunityThemeColors = z
  .strictObject(
    Object.fromEntries(THEME_COLOR_NAMES.map((name) => [name, ThemeColor.optional()])) as Record<
      ThemeColorName,
      z.ZodOptional<typeof ThemeColor>
    >,
  )
  .describe('The community view colour variables; any subset may be set.');

export const CommunityTheme = z
  .strictObject({
    colors: CommunityThemeColors.optional(),
    css: z
      .string()
      .max(MAX_CSS_BYTES)
      .optional()
      .describe(
        'Custom CSS (at most 4096 bytes), applied only inside the community view. Sanitised on save: ' +
          'allowlisted properties only, no @import, no url() outside uploaded assets, no position or z-index, ' +
          'no !important; every selector is scoped to the community.',
      ),
  })
  .describe("A community's theme");
export type CommunityThemeInput = z.input<typeof CommunityTheme>;

const COMMUNITY_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The selector of a community's view in the web app: `[data-community-theme="<id>"]`. */
export function communityThemeScope(communityId: string): string {
  if (!COMMUNITY_ID.test(communityId)) throw new Error(`Unexpected community id: ${communityId}`);
  return `[data-community-theme="${communityId}"]`;
}

export interface NormalizeThemeOptions {
  assetUrlPrefix?: string;
  /** Prefix of issue paths, e.g. `theme` when the theme is a field of a larger body. */
  path?: string;
}

/**
 * Validates a theme as sent by a client and returns its stored form: colours canonicalised,
 * CSS sanitised and scoped to `scope`. Throws `validation_error` naming every problem.
 */
export function normalizeTheme(
  input: unknown,
  scope: string,
  options: NormalizeThemeOptions = {},
): StoredCommunityTheme {
  const at = (path: string) => (options.path ? (path ? `${options.path}.${path}` : options.path) : path);
  const parsed = CommunityTheme.safeParse(input);
  if (!parsed.success) {
    const details: ValidationIssue[] = parsed.error.issues.map((issue) => ({
      path: at(issue.path.join('.')),
      message: issue.message,
    }));
    throw new AppError('validation_error', 'Invalid theme', details);
  }
  const colors: Partial<Record<ThemeColorName, string>> = {};
  for (const name of THEME_COLOR_NAMES) {
    const value = parsed.data.colors?.[name];
    if (value !== undefined) colors[name] = value;
  }
  const css = parsed.data.css
    ? sanitizeCommunityCss(parsed.data.css, {
        scope,
        assetUrlPrefix: options.assetUrlPrefix ?? DEFAULT_ASSET_URL_PREFIX,
        path: at('css'),
      })
    : '';
  return { colors, css };
}

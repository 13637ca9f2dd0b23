import { createHash } from 'node:crypto';
import type { ValidationIssue } from '@chatalot/protocol';
import * as csstree from 'css-tree';
import type { Atrule, Block, CssNode, Declaration, Rule, Selector, StyleSheet } from 'css-tree';
import { AppError } from '../../errors.js';
import { isAssetId } from '../../media/public-assets.js';

/**
 * Sanitiser for a community's custom CSS (PRODUCT.md §3, §10).
 *
 * The CSS is parsed with css-tree's real parser, checked node by node against allowlists, every
 * selector is rewritten to live inside the community's scope, and the result is printed back
 * from the AST (canonical, minified). Nothing is done with regular expressions over the raw
 * text: all names are compared after CSS escapes are decoded (`\75 rl(` is `url(`), and
 * comments never survive into tokens (`ex/**\/pression(` is the identifier `ex` followed by a
 * function `pression(`, which is not on the list).
 *
 * Decisions (also asserted by the tests):
 * - **Refused** (validation_error, one issue per problem, with line and column): parse errors of
 *   any kind; any at-rule other than `@media`, `@supports`, `@keyframes` (so `@import`,
 *   `@font-face`, `@namespace`, `@charset`, `@page`, `@layer`, `@container`, `@scope`, …); style
 *   rules nested in style rules (CSS nesting, `&`); properties outside the allowlist (notably
 *   `position`, `z-index`, `inset`/`top`/…, `behavior`, `-moz-binding`, `direction`,
 *   `unicode-bidi`); functions outside the allowlist (`expression()`, `attr()`, `element()`,
 *   `env()`, …); `url()` / `image-set()` pointing anywhere but one of our own public assets;
 *   `!important` (refused rather than stripped, so the admin sees why a rule does not win, and
 *   so the app's own inline styles on the scope container can never be overridden);
 *   strings outside `font-family`/`font`/`quotes`/custom properties; `content` other than `none`,
 *   `normal` or `""` (text in `::before`/`::after` could forge system messages); `cursor` values
 *   outside a safe keyword list (no `none`, no image cursors); `var()` in `content`, `cursor`,
 *   `animation` and `animation-name`; animation names that are not `@keyframes` of this sheet;
 *   selectors that start with a combinator (`+ .x` would reach the scope's siblings); `html`,
 *   `body`, `:root` anywhere but at the start of a selector, or followed by `+`/`~`; moving or
 *   resizing the scope element itself (`transform`, `margin`, `width`, `display`, `animation`,
 *   … in a rule whose selector targets `:root`/`html`/`body`); pseudo-classes and
 *   pseudo-elements outside their allowlists (`::backdrop` paints over the whole viewport);
 *   unicode ranges; more than {@link MAX_BLOCK_DEPTH} nested at-rule blocks; more than
 *   {@link MAX_CSS_BYTES} bytes; output containing `</` (cannot close a `<style>` element).
 * - **Rewritten**: every selector is prefixed with the scope (`.a` → `<scope> .a`);
 *   a leading `:root`, `html` or `body` compound becomes the scope itself (`body.dark .a` →
 *   `<scope>.dark .a`); `@keyframes` names and references to them get a per-scope prefix;
 *   property, function and at-rule names are printed decoded and lower-cased.
 * - **Silently dropped** (harmless): comments, `<!--` / `-->` tokens, whitespace, empty
 *   declarations (`;;`).
 */

export const MAX_CSS_BYTES = 4096;
/** Nesting of at-rule blocks (`@supports { @media { … } }` is 2). */
export const MAX_BLOCK_DEPTH = 3;
/** Nesting of selector arguments (`:not(:is(…))` is 2). */
export const MAX_SELECTOR_DEPTH = 4;
const MAX_ISSUES = 50;

export interface SanitizeCssOptions {
  /** A single compound selector for the community's view, e.g. `[data-community-theme="abc"]`. */
  scope: string;
  /** Path prefix of our public assets, e.g. `/api/assets/`. */
  assetUrlPrefix: string;
  /** Prefix of `@keyframes` names; defaults to one derived from the scope. */
  keyframesPrefix?: string;
  /** `path` of the reported validation issues; defaults to `css`. */
  path?: string;
}

// ---------------------------------------------------------------------------------------------
// Allowlists (all names lower-case, compared after decoding escapes)

const SIDES = ['top', 'right', 'bottom', 'left'];
const CORNERS = ['top-left', 'top-right', 'bottom-right', 'bottom-left'];

const ALLOWED_PROPERTIES = new Set<string>([
  // Colours
  'color',
  'background-color',
  'accent-color',
  'caret-color',
  'text-decoration-color',
  'fill',
  'stroke',
  'stroke-width',
  'color-scheme',
  // Backgrounds (images only through url() of our own assets or gradients)
  'background',
  'background-image',
  'background-position',
  'background-position-x',
  'background-position-y',
  'background-size',
  'background-repeat',
  'background-attachment',
  'background-clip',
  'background-origin',
  'background-blend-mode',
  // Borders and outlines
  'border',
  'border-width',
  'border-style',
  'border-color',
  ...SIDES.flatMap((s) => [`border-${s}`, `border-${s}-width`, `border-${s}-style`, `border-${s}-color`]),
  'border-radius',
  ...CORNERS.map((c) => `border-${c}-radius`),
  'border-collapse',
  'border-spacing',
  'outline',
  'outline-width',
  'outline-style',
  'outline-color',
  'outline-offset',
  'box-shadow',
  // Text and fonts (no @font-face, so only installed/system fonts)
  'font',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'font-variant',
  'font-variant-numeric',
  'font-feature-settings',
  'font-stretch',
  'line-height',
  'letter-spacing',
  'word-spacing',
  'text-align',
  'text-decoration',
  'text-decoration-line',
  'text-decoration-style',
  'text-decoration-thickness',
  'text-underline-offset',
  'text-transform',
  'text-indent',
  'text-overflow',
  'text-shadow',
  'white-space',
  'word-break',
  'overflow-wrap',
  'hyphens',
  'vertical-align',
  'list-style-type',
  'list-style-position',
  'quotes',
  // Spacing and box
  'margin',
  ...SIDES.map((s) => `margin-${s}`),
  'padding',
  ...SIDES.map((s) => `padding-${s}`),
  'gap',
  'row-gap',
  'column-gap',
  'width',
  'height',
  'min-width',
  'min-height',
  'max-width',
  'max-height',
  'box-sizing',
  'display',
  'visibility',
  'overflow',
  'overflow-x',
  'overflow-y',
  'flex',
  'flex-direction',
  'flex-wrap',
  'flex-grow',
  'flex-shrink',
  'flex-basis',
  'align-items',
  'align-self',
  'align-content',
  'justify-content',
  'justify-items',
  'justify-self',
  'order',
  'aspect-ratio',
  'object-fit',
  'object-position',
  // Effects and motion
  'opacity',
  'filter',
  'backdrop-filter',
  'mix-blend-mode',
  'transform',
  'transform-origin',
  'translate',
  'rotate',
  'scale',
  'transition',
  'transition-property',
  'transition-duration',
  'transition-timing-function',
  'transition-delay',
  'animation',
  'animation-name',
  'animation-duration',
  'animation-timing-function',
  'animation-delay',
  'animation-iteration-count',
  'animation-direction',
  'animation-fill-mode',
  'animation-play-state',
  'cursor',
  'content',
  'user-select',
  'scrollbar-color',
  'scrollbar-width',
]);

/** Properties refused in a rule that styles the scope element itself (it must stay in place). */
const SCOPE_ROOT_REFUSED = new Set<string>([
  'transform',
  'translate',
  'rotate',
  'scale',
  'margin',
  ...SIDES.map((s) => `margin-${s}`),
  'width',
  'height',
  'min-width',
  'min-height',
  'max-width',
  'max-height',
  'display',
  'visibility',
  'overflow',
  'overflow-x',
  'overflow-y',
  'flex',
  'flex-basis',
  'flex-grow',
  'flex-shrink',
  'order',
  'align-self',
  'justify-self',
  'aspect-ratio',
  'animation',
  'animation-name',
]);

/** Properties whose values may contain strings (and where strings are plain text, not URLs). */
const STRING_PROPERTIES = new Set<string>(['font', 'font-family', 'quotes', 'font-feature-settings']);

const SAFE_CURSORS = new Set<string>([
  'auto',
  'default',
  'pointer',
  'text',
  'vertical-text',
  'help',
  'wait',
  'progress',
  'not-allowed',
  'no-drop',
  'move',
  'grab',
  'grabbing',
  'crosshair',
  'cell',
  'copy',
  'alias',
  'context-menu',
  'zoom-in',
  'zoom-out',
  'col-resize',
  'row-resize',
  'all-scroll',
  'inherit',
  'initial',
  'unset',
]);

const ALLOWED_FUNCTIONS = new Set<string>([
  // Colours
  'rgb',
  'rgba',
  'hsl',
  'hsla',
  'hwb',
  'lab',
  'lch',
  'oklab',
  'oklch',
  'color',
  'color-mix',
  'light-dark',
  // Maths and variables
  'var',
  'calc',
  'min',
  'max',
  'clamp',
  // Gradients
  'linear-gradient',
  'radial-gradient',
  'conic-gradient',
  'repeating-linear-gradient',
  'repeating-radial-gradient',
  'repeating-conic-gradient',
  // Transforms
  ...['translate', 'rotate', 'scale', 'skew'].flatMap((f) => [f, `${f}x`, `${f}y`]),
  'translatez',
  'translate3d',
  'rotatez',
  'rotate3d',
  'scalez',
  'scale3d',
  'matrix',
  'matrix3d',
  'perspective',
  // Filters
  'blur',
  'brightness',
  'contrast',
  'drop-shadow',
  'grayscale',
  'hue-rotate',
  'invert',
  'opacity',
  'saturate',
  'sepia',
  // Timing
  'cubic-bezier',
  'steps',
  'linear',
  // Images: only our own assets, checked below
  'image-set',
  '-webkit-image-set',
]);

const PSEUDO_CLASSES_PLAIN = new Set<string>([
  'hover',
  'active',
  'focus',
  'focus-visible',
  'focus-within',
  'visited',
  'link',
  'any-link',
  'target',
  'checked',
  'disabled',
  'enabled',
  'required',
  'optional',
  'valid',
  'invalid',
  'default',
  'indeterminate',
  'placeholder-shown',
  'read-only',
  'read-write',
  'empty',
  'first-child',
  'last-child',
  'only-child',
  'first-of-type',
  'last-of-type',
  'only-of-type',
  'root',
  // Legacy one-colon pseudo-elements
  'before',
  'after',
  'first-line',
  'first-letter',
]);
const PSEUDO_CLASSES_SELECTOR_ARG = new Set<string>(['not', 'is', 'where', 'has']);
const PSEUDO_CLASSES_NTH_ARG = new Set<string>(['nth-child', 'nth-last-child', 'nth-of-type', 'nth-last-of-type']);

const PSEUDO_ELEMENTS = new Set<string>([
  'before',
  'after',
  'first-line',
  'first-letter',
  'placeholder',
  'selection',
  'marker',
  'file-selector-button',
  '-webkit-scrollbar',
  '-webkit-scrollbar-thumb',
  '-webkit-scrollbar-track',
  '-webkit-scrollbar-corner',
]);

/** Keywords of the `animation` shorthand; any other identifier in it is a keyframes name. */
const ANIMATION_KEYWORDS = new Set<string>([
  'none',
  'initial',
  'inherit',
  'unset',
  'revert',
  'ease',
  'ease-in',
  'ease-out',
  'ease-in-out',
  'linear',
  'step-start',
  'step-end',
  'infinite',
  'normal',
  'reverse',
  'alternate',
  'alternate-reverse',
  'forwards',
  'backwards',
  'both',
  'running',
  'paused',
  'auto',
]);

const KEYFRAMES_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const CUSTOM_PROPERTY_NAME = /^--[A-Za-z0-9_-]{1,64}$/;
const ROOT_TYPE_SELECTORS = new Set<string>(['html', 'body']);

// ---------------------------------------------------------------------------------------------

const lower = (name: string) => csstree.ident.decode(name).toLowerCase();

interface Context {
  issues: ValidationIssue[];
  path: string;
  scope: CssNode[];
  assetUrlPrefix: string;
  keyframesPrefix: string;
  keyframes: Set<string>;
}

/** Messages are shown to the admin: spell out anything invisible or outside printable ASCII. */
const printable = (text: string) =>
  text.replace(/[^\x20-\x7e]/gu, (ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`).slice(0, 500);

/** Decoded text (a string's value) that must not be emitted: control characters, `<`, `>`, `\`. */
const unsafeText = (text: string) =>
  [...text].some((ch) => {
    const code = ch.codePointAt(0)!;
    return code < 0x20 || code === 0x7f || '<>\\'.includes(ch);
  });

function report(ctx: Context, node: CssNode | null | undefined, message: string): void {
  if (ctx.issues.length >= MAX_ISSUES) return;
  const at = node?.loc ? `line ${node.loc.start.line}, column ${node.loc.start.column}: ` : '';
  ctx.issues.push({ path: ctx.path, message: printable(`${at}${message}`) });
}

type CssParser = ReturnType<typeof csstree.fork>;

function fail(path: string, message: string, issues: ValidationIssue[]): never {
  throw new AppError('validation_error', message, issues.length ? issues : [{ path, message }]);
}

/** The parsed scope: one compound of class, id and attribute selectors (a programming error otherwise). */
function parseScope(scope: string, parser: CssParser): CssNode[] {
  let errors = 0;
  const list = parser.parse(scope, { context: 'selectorList', onParseError: () => errors++ }) as CssNode;
  const selectors = list.type === 'SelectorList' ? list.children.toArray() : [];
  const only = selectors[0];
  if (errors || selectors.length !== 1 || !only || only.type !== 'Selector') {
    throw new Error(`Invalid theme scope selector: ${scope}`);
  }
  const parts = only.children.toArray();
  const simple = (n: CssNode) =>
    n.type === 'ClassSelector' || n.type === 'IdSelector' || n.type === 'AttributeSelector';
  if (!parts.length || !parts.every(simple)) throw new Error(`Theme scope must be a compound selector: ${scope}`);
  return parts;
}

function isAllowedAssetUrl(ctx: Context, url: string): boolean {
  return url.startsWith(ctx.assetUrlPrefix) && isAssetId(url.slice(ctx.assetUrlPrefix.length));
}

/**
 * Sanitises a community's custom CSS; returns the scoped, canonical CSS or throws
 * `validation_error` listing every problem.
 */
export function sanitizeCommunityCss(input: string, options: SanitizeCssOptions): string {
  const path = options.path ?? 'css';
  if (typeof input !== 'string') fail(path, 'Custom CSS must be a string', []);
  const bytes = Buffer.byteLength(input, 'utf8');
  if (bytes > MAX_CSS_BYTES) {
    fail(path, `Custom CSS is ${bytes} bytes; the limit is ${MAX_CSS_BYTES}`, []);
  }
  const prefix = options.assetUrlPrefix;
  if (!prefix.startsWith('/') || prefix.startsWith('//') || !prefix.endsWith('/')) {
    throw new Error(`assetUrlPrefix must be an absolute path ending in "/": ${prefix}`);
  }
  const keyframesPrefix =
    options.keyframesPrefix ?? `ct${createHash('sha256').update(options.scope).digest('hex').slice(0, 8)}-`;
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(keyframesPrefix)) throw new Error('Invalid keyframes prefix');

  // css-tree 3.2 keeps tokenizer state between parses, and some malformed input leaves it in a
  // state where the next parse never returns (a CPU-bound hang, found by the property test).
  // A fresh parser for each call (about 3 ms) keeps one user's CSS from affecting another's.
  const parser: CssParser = csstree.fork({});
  const ctx: Context = {
    issues: [],
    path,
    scope: parseScope(options.scope, parser),
    assetUrlPrefix: prefix,
    keyframesPrefix,
    keyframes: new Set(),
  };

  let ast: CssNode;
  try {
    ast = parser.parse(input, {
      positions: true,
      parseValue: true,
      parseCustomProperty: true,
      onParseError: (error) => {
        if (ctx.issues.length < MAX_ISSUES) {
          ctx.issues.push({
            path,
            message: printable(`line ${error.line}, column ${error.column}: ${error.message}`),
          });
        }
      },
    });
  } catch (err) {
    if (err instanceof RangeError) fail(path, 'Custom CSS is nested too deeply', []);
    throw err;
  }
  if (ctx.issues.length) fail(path, 'Custom CSS could not be parsed', ctx.issues);
  if (ast.type !== 'StyleSheet') fail(path, 'Custom CSS could not be parsed', []);

  let output: string;
  try {
    collectKeyframes(ctx, ast, 0);
    sanitizeBlockList(ctx, ast, 0);
    if (ctx.issues.length) fail(path, 'Custom CSS was refused', ctx.issues);
    output = csstree.generate(ast);
  } catch (err) {
    if (err instanceof RangeError) fail(path, 'Custom CSS is nested too deeply', []);
    throw err;
  }

  // Last line of defence: what we store must parse cleanly and never end a <style> element.
  let reparseErrors = 0;
  parser.parse(output, { parseValue: true, parseCustomProperty: true, onParseError: () => reparseErrors++ });
  if (reparseErrors) fail(path, 'Custom CSS could not be sanitised', []);
  if (output.toLowerCase().includes('</')) fail(path, 'Custom CSS must not contain "</"', []);
  return output;
}

/** First pass: the `@keyframes` names the sheet defines (so references may precede definitions). */
function collectKeyframes(ctx: Context, container: StyleSheet | Block, depth: number): void {
  if (depth > MAX_BLOCK_DEPTH) return;
  container.children.forEach((node) => {
    if (node.type !== 'Atrule') return;
    const name = lower(node.name);
    if (name === 'keyframes') {
      const id = keyframesName(node);
      if (id !== undefined) ctx.keyframes.add(id);
    } else if ((name === 'media' || name === 'supports') && node.block) {
      collectKeyframes(ctx, node.block, depth + 1);
    }
  });
}

function keyframesName(node: Atrule): string | undefined {
  const parts = node.prelude?.type === 'AtrulePrelude' ? node.prelude.children.toArray() : [];
  const first = parts[0];
  if (parts.length !== 1 || !first) return undefined;
  const name =
    first.type === 'Identifier' ? csstree.ident.decode(first.name) : first.type === 'String' ? first.value : undefined;
  if (name === undefined || !KEYFRAMES_NAME.test(name) || ANIMATION_KEYWORDS.has(name.toLowerCase())) return undefined;
  return name;
}

/** A stylesheet or an at-rule block: style rules and the allowed at-rules. */
function sanitizeBlockList(ctx: Context, container: StyleSheet | Block, depth: number): void {
  container.children.forEach((node, item, list) => {
    switch (node.type) {
      case 'CDO':
      case 'CDC':
      case 'Comment':
        list.remove(item);
        return;
      case 'Rule':
        sanitizeStyleRule(ctx, node);
        return;
      case 'Atrule':
        sanitizeAtrule(ctx, node, depth);
        return;
      default:
        report(ctx, node, 'Only style rules, @media, @supports and @keyframes are allowed here');
    }
  });
}

function sanitizeAtrule(ctx: Context, node: Atrule, depth: number): void {
  const name = lower(node.name);
  switch (name) {
    case 'media':
    case 'supports': {
      node.name = name;
      if (!node.block) return report(ctx, node, `@${name} needs a block`);
      if (depth + 1 > MAX_BLOCK_DEPTH) {
        return report(ctx, node, `At-rules may be nested at most ${MAX_BLOCK_DEPTH} deep`);
      }
      if (node.prelude) checkConditionPrelude(ctx, node.prelude, name);
      sanitizeBlockList(ctx, node.block, depth + 1);
      return;
    }
    case 'keyframes': {
      node.name = name;
      const id = keyframesName(node);
      if (id === undefined) {
        return report(
          ctx,
          node,
          '@keyframes needs one name of letters, digits, "-" and "_" that is not a keyword such as none',
        );
      }
      if (!node.block) return report(ctx, node, '@keyframes needs a block');
      node.prelude = {
        type: 'AtrulePrelude',
        children: new csstree.List<CssNode>().fromArray([{ type: 'Identifier', name: ctx.keyframesPrefix + id }]),
      };
      node.block.children.forEach((child) => {
        if (child.type !== 'Rule') return report(ctx, child, 'A @keyframes block may only contain keyframes');
        if (child.prelude.type !== 'SelectorList') return report(ctx, child, 'Invalid keyframe selector');
        child.prelude.children.forEach((sel) => {
          const parts = sel.type === 'Selector' ? sel.children.toArray() : [];
          const only = parts[0];
          const ok =
            parts.length === 1 &&
            only !== undefined &&
            (only.type === 'Percentage' || (only.type === 'TypeSelector' && ['from', 'to'].includes(lower(only.name))));
          if (!ok) report(ctx, sel, 'Keyframe selectors must be "from", "to" or percentages');
        });
        sanitizeDeclarations(ctx, child.block, 'keyframe', false);
      });
      return;
    }
    default:
      report(ctx, node, `@${name} is not allowed (only @media, @supports and @keyframes)`);
  }
}

/** `@media` / `@supports` conditions: features and keywords only (no functions, URLs or strings). */
function checkConditionPrelude(ctx: Context, prelude: CssNode, atrule: string): void {
  csstree.walk(prelude, (node) => {
    switch (node.type) {
      case 'AtrulePrelude':
      case 'MediaQueryList':
      case 'MediaQuery':
      case 'Condition':
      case 'Feature':
      case 'FeatureRange':
      case 'Identifier':
      case 'Number':
      case 'Dimension':
      case 'Percentage':
      case 'Ratio':
        return;
      case 'SupportsDeclaration':
        // The declaration is only tested, never applied; still refuse anything a value may not hold.
        checkValue(ctx, node.declaration, lower(node.declaration.property), { inSupports: true });
        return csstree.walk.skip;
      default:
        report(ctx, node, `Unsupported ${node.type} in the @${atrule} condition`);
        return csstree.walk.skip;
    }
  });
}

function sanitizeStyleRule(ctx: Context, rule: Rule): void {
  if (rule.prelude.type !== 'SelectorList') return report(ctx, rule, 'Invalid selector');
  const original = csstree.generate(rule.prelude);
  let targetsScope = false;
  rule.prelude.children.forEach((selector) => {
    if (selector.type !== 'Selector') return report(ctx, selector, `Invalid selector in "${original}"`);
    checkSelectorParts(ctx, selector, original);
    if (scopeSelector(ctx, selector, original)) targetsScope = true;
  });
  sanitizeDeclarations(ctx, rule.block, original, targetsScope);
}

/** Allowlist check of one selector and everything nested in its pseudo-class arguments. */
function checkSelectorParts(ctx: Context, selector: Selector, where: string): void {
  let depth = 0;
  let tooDeep = false;
  csstree.walk(selector, {
    leave: (node: CssNode) => {
      if (node.type === 'SelectorList') depth--;
    },
    enter: (node: CssNode) => {
      switch (node.type) {
        case 'SelectorList':
          if (++depth > MAX_SELECTOR_DEPTH && !tooDeep) {
            tooDeep = true;
            report(ctx, node, `Selector arguments may be nested at most ${MAX_SELECTOR_DEPTH} deep in "${where}"`);
          }
          return;
        case 'Selector':
        case 'TypeSelector':
        case 'ClassSelector':
        case 'IdSelector':
        case 'Combinator':
        case 'Nth':
        case 'AnPlusB':
          return;
        case 'AttributeSelector':
          return csstree.walk.skip;
        case 'PseudoClassSelector': {
          const name = lower(node.name);
          const args = node.children?.toArray() ?? [];
          if (PSEUDO_CLASSES_PLAIN.has(name) && !node.children) return;
          if (PSEUDO_CLASSES_SELECTOR_ARG.has(name) && args.length === 1 && args[0]!.type === 'SelectorList') return;
          if (PSEUDO_CLASSES_NTH_ARG.has(name) && args.length === 1 && args[0]!.type === 'Nth') return;
          report(ctx, node, `Pseudo-class ":${name}${node.children ? '()' : ''}" is not allowed in "${where}"`);
          return csstree.walk.skip;
        }
        case 'PseudoElementSelector': {
          const name = lower(node.name);
          if (!PSEUDO_ELEMENTS.has(name) || node.children) {
            report(ctx, node, `Pseudo-element "::${name}" is not allowed in "${where}"`);
          }
          return csstree.walk.skip;
        }
        case 'NestingSelector':
          report(ctx, node, `Nesting ("&") is not supported in "${where}"`);
          return csstree.walk.skip;
        default:
          report(ctx, node, `Unsupported ${node.type} in selector "${where}"`);
          return csstree.walk.skip;
      }
    },
  });
}

const isRootPart = (n: CssNode) =>
  (n.type === 'TypeSelector' && ROOT_TYPE_SELECTORS.has(lower(n.name))) ||
  (n.type === 'PseudoClassSelector' && lower(n.name) === 'root' && !n.children);

/**
 * Rewrites a top-level selector to live inside the scope; returns whether it targets the scope
 * element itself (rather than a descendant).
 */
function scopeSelector(ctx: Context, selector: Selector, where: string): boolean {
  const parts = selector.children.toArray();
  if (!parts.length) {
    report(ctx, selector, `Empty selector in "${where}"`);
    return false;
  }
  if (parts[0]!.type === 'Combinator') {
    report(ctx, selector, `A selector cannot start with a combinator ("${where}")`);
    return false;
  }
  // Leading compounds that name the document root or body become the scope element.
  const qualifiers: CssNode[] = [];
  let rest = parts;
  let joiner: CssNode | undefined;
  for (;;) {
    const end = rest.findIndex((n) => n.type === 'Combinator');
    const compound = end === -1 ? rest : rest.slice(0, end);
    if (!compound.some(isRootPart)) break;
    qualifiers.push(...compound.filter((n) => !isRootPart(n) && !(n.type === 'TypeSelector' && n.name === '*')));
    if (end === -1) {
      rest = [];
      joiner = undefined;
      break;
    }
    const combinator = rest[end]!;
    if (combinator.type === 'Combinator' && combinator.name !== ' ' && combinator.name !== '>') {
      report(ctx, combinator, `":root", "html" and "body" cannot be followed by "${combinator.name}" in "${where}"`);
      return false;
    }
    joiner = combinator;
    rest = rest.slice(end + 1);
  }
  if (rest.some(isRootPart)) {
    report(ctx, selector, `":root", "html" and "body" may only start a selector ("${where}")`);
    return false;
  }
  const consumedRoot = rest !== parts;
  const scope = ctx.scope.map((n) => csstree.clone(n));
  const descendant: CssNode = joiner ?? { type: 'Combinator', name: ' ' };
  const children = consumedRoot
    ? [...scope, ...qualifiers, ...(rest.length ? [descendant, ...rest] : [])]
    : [...scope, descendant, ...parts];
  selector.children = new csstree.List<CssNode>().fromArray(children);
  return consumedRoot && rest.length === 0;
}

function sanitizeDeclarations(ctx: Context, block: Block, where: string, targetsScope: boolean): void {
  block.children.forEach((node, item, list) => {
    // A stray `;` (empty declaration) is harmless: dropped.
    if (node.type === 'Raw' && node.value.trim() === ';') return list.remove(item);
    if (node.type !== 'Declaration') {
      const what =
        node.type === 'Rule' ? 'Nested rules are' : node.type === 'Atrule' ? 'Nested at-rules are' : 'This is';
      return report(ctx, node, `${what} not allowed inside "${where}"`);
    }
    sanitizeDeclaration(ctx, node, where, targetsScope);
  });
}

function sanitizeDeclaration(ctx: Context, decl: Declaration, where: string, targetsScope: boolean): void {
  const decoded = csstree.ident.decode(decl.property);
  const custom = decoded.startsWith('--');
  const property = custom ? decoded : decoded.toLowerCase();
  const label = `"${where}" > ${property}`;
  if (custom) {
    if (!CUSTOM_PROPERTY_NAME.test(property)) {
      return report(ctx, decl, `${label}: custom property names may only use letters, digits, "-" and "_"`);
    }
  } else if (!ALLOWED_PROPERTIES.has(property)) {
    return report(ctx, decl, `${label}: property "${property}" is not allowed`);
  } else if (targetsScope && SCOPE_ROOT_REFUSED.has(property)) {
    return report(ctx, decl, `${label}: "${property}" cannot be set on the community view itself`);
  }
  if (decl.important) {
    return report(ctx, decl, `${label}: "!important" is not allowed`);
  }
  decl.property = property;
  checkValue(ctx, decl, property, { label });
}

interface ValueCheck {
  label?: string;
  inSupports?: boolean;
}

/** Checks (and canonicalises) a declaration's value. */
function checkValue(ctx: Context, decl: Declaration, property: string, check: ValueCheck): void {
  const label = check.label ?? `@supports > ${property}`;
  const value = decl.value;
  if (value.type === 'Raw') {
    // Only custom properties may be empty; anything else css-tree could not parse.
    if (property.startsWith('--') && value.value.trim() === '') return;
    return report(ctx, decl, `${label}: the value could not be parsed`);
  }
  const custom = property.startsWith('--');
  const nodes = value.children.toArray();

  if (property === 'content' && !check.inSupports) {
    const only = nodes[0];
    const ok =
      nodes.length === 1 &&
      only !== undefined &&
      ((only.type === 'Identifier' && ['none', 'normal'].includes(lower(only.name))) ||
        (only.type === 'String' && only.value === ''));
    if (!ok) report(ctx, decl, `${label}: "content" may only be none, normal or "" (empty string)`);
    return;
  }
  if (property === 'cursor' && !check.inSupports) {
    const only = nodes[0];
    if (nodes.length === 1 && only?.type === 'Identifier' && SAFE_CURSORS.has(lower(only.name))) {
      only.name = lower(only.name);
      return;
    }
    report(ctx, decl, `${label}: cursor must be one of ${[...SAFE_CURSORS].join(', ')}`);
    return;
  }
  const animation = (property === 'animation' || property === 'animation-name') && !check.inSupports;

  const visit = (node: CssNode): typeof csstree.walk.skip | undefined => {
    switch (node.type) {
      case 'Value':
      case 'Number':
      case 'Percentage':
      case 'Dimension':
      case 'Hash':
      case 'Operator':
      case 'Parentheses':
      case 'Brackets':
        return;
      case 'Identifier':
        if (animation && node.name !== '' && !ANIMATION_KEYWORDS.has(lower(node.name))) {
          const name = csstree.ident.decode(node.name);
          if (!ctx.keyframes.has(name)) {
            report(ctx, node, `${label}: no @keyframes "${name}" in this stylesheet`);
          } else {
            node.name = ctx.keyframesPrefix + name;
          }
        }
        return;
      case 'String':
        if (!custom && !STRING_PROPERTIES.has(property)) {
          report(ctx, node, `${label}: strings are not allowed in "${property}"`);
        } else if (unsafeText(node.value)) {
          // (A check on the decoded string value, not on the raw CSS.)
          report(ctx, node, `${label}: strings may not contain control characters, "<", ">" or "\\"`);
        }
        return;
      case 'Url':
        if (!isAllowedAssetUrl(ctx, node.value)) {
          report(ctx, node, `${label}: url() may only point to an uploaded image (${ctx.assetUrlPrefix}...)`);
        }
        return;
      case 'Function': {
        const name = lower(node.name);
        node.name = name;
        if (!ALLOWED_FUNCTIONS.has(name)) {
          report(ctx, node, `${label}: function "${name}()" is not allowed`);
          return csstree.walk.skip;
        }
        if (name === 'var' && (animation || check.inSupports)) {
          report(ctx, node, `${label}: var() is not allowed in "${property}"`);
          return csstree.walk.skip;
        }
        if (name === 'var') {
          const first = node.children.first;
          if (first?.type !== 'Identifier' || !csstree.ident.decode(first.name).startsWith('--')) {
            report(ctx, node, `${label}: var() must name a custom property`);
            return csstree.walk.skip;
          }
          return;
        }
        if (name === 'image-set' || name === '-webkit-image-set') {
          // Strings in image-set() are URLs.
          node.children.forEach((arg) => {
            if (arg.type === 'String' && !isAllowedAssetUrl(ctx, arg.value)) {
              report(ctx, arg, `${label}: image-set() may only point to uploaded images (${ctx.assetUrlPrefix}...)`);
            } else if (arg.type === 'String') {
              arg.value = arg.value.trim();
            }
          });
          node.children.forEach((arg) => {
            if (arg.type !== 'String') csstree.walk(arg, visit);
          });
          return csstree.walk.skip;
        }
        return;
      }
      case 'UnicodeRange':
        report(ctx, node, `${label}: unicode ranges are not allowed`);
        return;
      default:
        report(ctx, node, `${label}: unsupported ${node.type} in the value`);
        return csstree.walk.skip;
    }
  };
  csstree.walk(value, visit);
}

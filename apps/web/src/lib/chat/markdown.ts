/**
 * Message text as Markdown, safely. Two stages, each safe on its own:
 *
 * 1. `markdownToHtml` (marked, GFM, line breaks as <br>) only ever emits the elements this file
 *    writes: raw HTML in the source is not recognised at all (its tokenizers are switched off, so
 *    `<b>` stays the text "<b>"), links keep only http(s)/mailto targets, and what has no place in a
 *    chat line (headings, tables, rules, images, checkboxes) is rendered as text.
 * 2. `sanitizeHtml` (DOMPurify) then keeps only a small allowlist of elements and attributes, class
 *    names of the highlighter and of this file, and links with safe targets that open in a new tab.
 *
 * `renderMessage` does both and splits the result into segments, so that the view can put a copy
 * button (a real Svelte button, no inline handler) next to each top-level code block.
 */
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { Marked, type MarkedExtension, type Token, type Tokens } from 'marked';

const LANGUAGES = {
  bash,
  c,
  cpp,
  css,
  diff,
  go,
  java,
  javascript,
  json,
  markdown,
  python,
  rust,
  shell,
  sql,
  typescript,
  xml,
  yaml,
};
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

/** Longer code blocks are shown without highlighting, to keep rendering cheap. */
const MAX_HIGHLIGHT = 20_000;

/** The elements the sanitizer keeps; everything else is dropped (its text kept). */
export const ALLOWED_TAGS = [
  'p',
  'br',
  'strong',
  'em',
  'del',
  'code',
  'pre',
  'blockquote',
  'ul',
  'ol',
  'li',
  'a',
  'span',
] as const;
export const ALLOWED_ATTRIBUTES = ['href', 'class', 'target', 'rel', 'start'] as const;
/** Class names allowed through: the highlighter's, `language-…` and this file's `md-…`. */
const CLASS_NAME = /^(?:hljs(?:-[a-z0-9_-]+)?|[a-z0-9_]+_|language-[a-z0-9+#_-]+|md-[a-z-]+)$/i;
export const LINK_REL = 'noopener noreferrer nofollow';

export type Segment =
  { kind: 'html'; html: string } | { kind: 'code'; html: string; code: string; lang: string | null };

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

/** The href to use for a link target, or null unless it is a well-formed http(s) or mailto URL. */
export function safeLinkHref(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return null;
  }
  if (parsed.protocol === 'mailto:') return parsed.pathname ? parsed.href : null;
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  return parsed.hostname ? parsed.href : null;
}

/** The registered highlight.js language for a fence's info string (`ts`, `py`, `sh`…), if any. */
function languageOf(info: string | undefined): string | null {
  const name = (info ?? '').trim().split(/\s/, 1)[0]!.toLowerCase();
  if (!name || !/^[a-z0-9+#_-]+$/.test(name)) return null;
  return hljs.getLanguage(name) ? name : null;
}

function renderCode(code: string, info: string | undefined): string {
  const lang = languageOf(info);
  let body = escapeHtml(code);
  if (lang && code.length <= MAX_HIGHLIGHT) {
    try {
      body = hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
    } catch {
      // Left unhighlighted.
    }
  }
  return `<pre><code class="hljs${lang ? ` language-${lang}` : ''}">${body}</code></pre>`;
}

/** `||text||` hides text until clicked. */
const spoiler: MarkedExtension = {
  extensions: [
    {
      name: 'spoiler',
      level: 'inline',
      start: (src) => {
        const at = src.indexOf('||');
        return at < 0 ? undefined : at;
      },
      tokenizer(src) {
        const match = /^\|\|(?=[^\s|])((?:[^|\n]|\|(?!\|))*?[^\s|])\|\|/.exec(src);
        if (!match) return undefined;
        return { type: 'spoiler', raw: match[0], tokens: this.lexer.inlineTokens(match[1]!) };
      },
      renderer(token) {
        return `<span class="md-spoiler">${this.parser.parseInline(token.tokens ?? [])}</span>`;
      },
    },
  ],
};

const noMatch = () => undefined;

const marked = new Marked(
  { gfm: true, breaks: true, async: false },
  {
    tokenizer: {
      // Raw HTML is never markup: without these, `<b>x</b>` is plain text, escaped when rendered.
      html: noMatch,
      tag: noMatch,
      // Not for chat lines: their source stays text.
      table: noMatch,
      hr: noMatch,
      lheading: noMatch,
    },
    renderer: {
      // Defence in depth: should HTML tokens ever appear, they are shown as text.
      html: ({ text }) => escapeHtml(text),
      heading({ tokens }) {
        return `<p><strong>${this.parser.parseInline(tokens)}</strong></p>\n`;
      },
      code: ({ text, lang }) => `${renderCode(text, lang)}\n`,
      image: ({ raw }) => escapeHtml(raw),
      checkbox: ({ checked }) => (checked ? '[x] ' : '[ ] '),
      link({ href, tokens, text, autolink }) {
        const inner = autolink ? escapeHtml(text) : this.parser.parseInline(tokens);
        const safe = safeLinkHref(href);
        if (!safe) return inner;
        return `<a href="${escapeHtml(safe)}" target="_blank" rel="${LINK_REL}">${inner}</a>`;
      },
    },
  },
  spoiler,
);

/** Markdown to HTML, before sanitizing (exported for tests). */
export function markdownToHtml(text: string): string {
  return marked.parse(text, { async: false }).trim();
}

type Purifier = ReturnType<typeof DOMPurify>;
let purifier: Purifier | null | undefined;

/** A DOMPurify instance of its own (the hooks below do not touch other users), once there is a DOM. */
function getPurifier(): Purifier | null {
  if (purifier !== undefined) return purifier;
  if (typeof window === 'undefined') return null;
  const instance = DOMPurify(window);
  if (!instance.isSupported) return (purifier = null);
  instance.addHook('uponSanitizeAttribute', (_node, data) => {
    if (data.attrName !== 'class') return;
    const kept = data.attrValue.split(/\s+/).filter((name) => CLASS_NAME.test(name));
    if (kept.length === 0) data.keepAttr = false;
    else data.attrValue = kept.join(' ');
  });
  instance.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'OL') {
      const start = node.getAttribute('start');
      if (start !== null && !/^\d{1,9}$/.test(start)) node.removeAttribute('start');
    } else if (node.hasAttribute('start')) {
      node.removeAttribute('start');
    }
    if (node.tagName !== 'A') {
      node.removeAttribute('href');
      node.removeAttribute('target');
      node.removeAttribute('rel');
      return;
    }
    const href = node.getAttribute('href');
    const safe = href === null ? null : safeLinkHref(href);
    if (safe === null) {
      node.removeAttribute('href');
      node.removeAttribute('target');
      node.removeAttribute('rel');
      return;
    }
    node.setAttribute('href', safe);
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', LINK_REL);
  });
  return (purifier = instance);
}

/**
 * HTML limited to the allowlist. Without a DOM (no sanitizer available) the input is shown as
 * escaped text rather than trusted.
 */
export function sanitizeHtml(html: string): string {
  const purify = getPurifier();
  if (!purify) return escapeHtml(html);
  return purify.sanitize(html, {
    ALLOWED_TAGS: [...ALLOWED_TAGS],
    ALLOWED_ATTR: [...ALLOWED_ATTRIBUTES],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    ALLOW_UNKNOWN_PROTOCOLS: false,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
    KEEP_CONTENT: true,
    RETURN_TRUSTED_TYPE: false,
  });
}

function plainParagraph(text: string): Segment {
  return { kind: 'html', html: `<p>${escapeHtml(text).replace(/\n/g, '<br>')}</p>` };
}

/**
 * A message's text as sanitized HTML segments: top-level code blocks on their own (with their
 * source, for copying), everything between them as one HTML segment each.
 */
export function renderMessage(text: string): Segment[] {
  if (!getPurifier()) return [plainParagraph(text)];
  let tokens: Token[];
  try {
    tokens = marked.lexer(text);
  } catch {
    return [plainParagraph(text)];
  }
  const segments: Segment[] = [];
  let run: Token[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const html = sanitizeHtml(marked.parser(run).trim());
    if (html) segments.push({ kind: 'html', html });
    run = [];
  };
  for (const token of tokens) {
    if (token.type === 'code') {
      flush();
      const code = token as Tokens.Code;
      segments.push({
        kind: 'code',
        html: sanitizeHtml(renderCode(code.text, code.lang)),
        code: code.text,
        lang: languageOf(code.lang),
      });
    } else {
      run.push(token);
    }
  }
  flush();
  return segments.length > 0 ? segments : [plainParagraph(text)];
}

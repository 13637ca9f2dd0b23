import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XSS_CORPUS } from '../apps/web/src/lib/chat/markdown-xss-corpus.js';
import { HAVE_CHROMIUM, bundleForBrowser, launchChromium } from './browser.js';

/**
 * The chat's Markdown renderer (apps/web/src/lib/chat/markdown.ts) with its sanitizer, in
 * Chromium: DOMPurify needs a real DOM, which the web unit tests do not have. Every input of the
 * XSS corpus is rendered, put into the page, and the resulting elements are checked against the
 * allowlist; raw hostile HTML is also fed to the sanitizer directly (the second line of defence).
 */

const MARKDOWN = path.resolve(import.meta.dirname, '../apps/web/src/lib/chat/markdown.ts');
const ALLOWED_TAGS = ['P', 'BR', 'STRONG', 'EM', 'DEL', 'CODE', 'PRE', 'BLOCKQUOTE', 'UL', 'OL', 'LI', 'A', 'SPAN'];

/** Raw HTML that marked never emits, to test the sanitizer on its own. */
const RAW_HTML = [
  '<script>window.__xss = 1</script>',
  '<img src=x onerror="window.__xss = 1">',
  '<svg><animate onbegin="window.__xss = 1" attributeName=x dur=1s></svg>',
  '<a href="javascript:window.__xss = 1">x</a>',
  '<a href="data:text/html,<script>window.__xss=1</script>">x</a>',
  '<a href="https://ok.example" target="_self" onclick="window.__xss = 1">x</a>',
  '<a href="//evil.example">x</a>',
  '<p class="fixed inset-0 hljs-keyword" style="color:red" id="x" data-x="1">styled</p>',
  '<span onmouseover="window.__xss = 1" tabindex="0">hover</span>',
  '<iframe srcdoc="<script>window.__xss=1</script>"></iframe>',
  '<form action="javascript:window.__xss=1"><button>go</button></form>',
  '<p>a<!-- comment --><b>b</b><details open ontoggle="window.__xss = 1">c</details></p>',
  '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss = 1">',
  '<noscript><p title="</noscript><img src=x onerror=window.__xss=1>">',
  '<ol start="1 onclick=x"><li>x</li></ol>',
];

type Check = { input: string; html: string; problems: string[] };

declare global {
  interface Window {
    __xss?: number;
    md: typeof import('../apps/web/src/lib/chat/markdown.js');
  }
}

describe.skipIf(!HAVE_CHROMIUM)('the chat Markdown renderer in Chromium', () => {
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    const bundle = await bundleForBrowser({
      stdin: {
        contents: `import * as md from ${JSON.stringify(MARKDOWN)}; window.md = md;`,
        resolveDir: process.cwd(),
      },
    });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('dialog', (dialog) => {
      errors.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await page.setContent('<!doctype html><html><body><main id="out"></main></body></html>');
    await page.addScriptTag({ content: bundle });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Renders each input in the page (as the chat view does) and lists what is not allowed. */
  function check(inputs: readonly string[], mode: 'markdown' | 'sanitize'): Promise<Check[]> {
    return page.evaluate(
      ([inputs, mode, allowed]) => {
        const out = document.getElementById('out')!;
        return inputs.map((input) => {
          const html =
            mode === 'markdown'
              ? window.md
                  .renderMessage(input)
                  .map((s) => s.html)
                  .join('')
              : window.md.sanitizeHtml(input);
          const box = document.createElement('div');
          box.innerHTML = html;
          out.append(box);
          const problems: string[] = [];
          for (const el of box.querySelectorAll('*')) {
            if (!allowed.includes(el.tagName)) problems.push(`element ${el.tagName}`);
            for (const attr of el.attributes) {
              const name = attr.name.toLowerCase();
              if (name.startsWith('on') || name === 'style' || name === 'src' || name === 'srcdoc') {
                problems.push(`attribute ${name}`);
              } else if (!['href', 'class', 'target', 'rel', 'start'].includes(name)) {
                problems.push(`attribute ${name}`);
              }
            }
            for (const name of el.classList) {
              if (!/^(hljs|language-|md-|[a-z]+_$)/.test(name)) problems.push(`class ${name}`);
            }
            if (el.tagName === 'OL' && el.hasAttribute('start') && !/^\d+$/.test(el.getAttribute('start')!)) {
              problems.push('bad start');
            }
            if (el.hasAttribute('href')) {
              const href = el.getAttribute('href')!;
              if (el.tagName !== 'A') problems.push(`href on ${el.tagName}`);
              if (!/^(https?:\/\/[^/]|mailto:)/i.test(href)) problems.push(`href ${href}`);
              if (el.getAttribute('target') !== '_blank') problems.push('link without target=_blank');
              if (el.getAttribute('rel') !== 'noopener noreferrer nofollow') problems.push('link without rel');
            }
          }
          return { input, html, problems };
        });
      },
      [inputs, mode, ALLOWED_TAGS] as const,
    );
  }

  it('renders every input of the XSS corpus to allowed elements and attributes only', async () => {
    const results = await check(XSS_CORPUS, 'markdown');
    expect(results.filter((r) => r.problems.length > 0)).toEqual([]);
    // The HTML in the source shows as text.
    const img = results.find((r) => r.input === '<img src=x onerror=alert(1)>')!;
    expect(img.html).toBe('<p>&lt;img src=x onerror=alert(1)&gt;</p>');
    const js = results.find((r) => r.input === '[click](javascript:alert(1))')!;
    expect(js.html).toBe('<p>click</p>');
  });

  it('sanitizes hostile raw HTML on its own (the second line of defence)', async () => {
    const results = await check(RAW_HTML, 'sanitize');
    expect(results.filter((r) => r.problems.length > 0)).toEqual([]);
    const byInput = new Map(results.map((r) => [r.input, r.html]));
    expect(byInput.get(RAW_HTML[5]!)).toBe(
      '<a href="https://ok.example/" target="_blank" rel="noopener noreferrer nofollow">x</a>',
    );
    expect(byInput.get(RAW_HTML[7]!)).toBe('<p class="hljs-keyword">styled</p>');
    expect(byInput.get(RAW_HTML[3]!)).toBe('<a>x</a>');
  });

  it('renders Markdown to the expected elements, with highlighted code segments', async () => {
    const segments = await page.evaluate(() =>
      window.md.renderMessage('**bold** and `code` and [site](https://example.org)\n```ts\nconst a = 1;\n```\nafter'),
    );
    expect(segments.map((s) => s.kind)).toEqual(['html', 'code', 'html']);
    expect(segments[0]!.html).toBe(
      '<p><strong>bold</strong> and <code>code</code> and <a href="https://example.org/" target="_blank" rel="noopener noreferrer nofollow">site</a></p>',
    );
    expect(segments[1]).toMatchObject({ kind: 'code', code: 'const a = 1;', lang: 'ts' });
    expect(segments[1]!.html).toContain('<span class="hljs-keyword">const</span>');
    expect(segments[2]!.html).toBe('<p>after</p>');
  });

  it('ran no script', async () => {
    // Let any error handlers of dropped images have their turn.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 100))));
    expect(await page.evaluate(() => window.__xss)).toBeUndefined();
    expect(errors).toEqual([]);
  });
});

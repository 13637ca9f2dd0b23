import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALLOWED_ATTRIBUTES,
  ALLOWED_TAGS,
  LINK_REL,
  escapeHtml,
  markdownToHtml,
  renderMessage,
  safeLinkHref,
} from './markdown';
import { XSS_CORPUS } from './markdown-xss-corpus';

/**
 * These tests run without a DOM, so they cover the Markdown stage (which on its own must emit
 * nothing but the allowlist) and the no-DOM fallback; the sanitizer itself (DOMPurify) is covered
 * in Chromium by e2e/markdown-in-browser.test.ts, with the same corpus (markdown-xss-corpus.ts).
 */

/** Every tag in `html` with its attributes; throws on a `<` that is not one of our tags. */
function scan(html: string): { tag: string; attrs: Record<string, string> }[] {
  const found: { tag: string; attrs: Record<string, string> }[] = [];
  const rest = html.replace(/<\/?([a-z][a-z0-9]*)((?:\s[a-z]+="[^"<>]*")*)\s*>/g, (_m, tag: string, attrs: string) => {
    const parsed: Record<string, string> = {};
    for (const [, name, value] of attrs.matchAll(/\s([a-z]+)="([^"]*)"/g)) parsed[name!] = value!;
    found.push({ tag, attrs: parsed });
    return '';
  });
  if (rest.includes('<') || rest.includes('>')) throw new Error(`unexpected markup in ${html}`);
  return found;
}

function expectSafe(html: string) {
  for (const { tag, attrs } of scan(html)) {
    expect(ALLOWED_TAGS as readonly string[], `${tag} in ${html}`).toContain(tag);
    for (const [name, value] of Object.entries(attrs)) {
      expect(ALLOWED_ATTRIBUTES as readonly string[], `${name} in ${html}`).toContain(name);
      if (name === 'href') {
        expect(tag).toBe('a');
        expect(safeLinkHref(value.replace(/&amp;/g, '&'))).not.toBeNull();
        expect(value).toMatch(/^(https?:\/\/|mailto:)/);
      }
      if (name === 'class') for (const c of value.split(' ')) expect(c).toMatch(/^(hljs|language-|md-|[a-z]+_$)/);
    }
  }
}

describe('markdownToHtml', () => {
  it('renders the chat subset of Markdown', () => {
    expect(markdownToHtml('Hello **bold**, _em_, ~~gone~~ and `code`')).toBe(
      '<p>Hello <strong>bold</strong>, <em>em</em>, <del>gone</del> and <code>code</code></p>',
    );
    expect(markdownToHtml('First line\nSecond line')).toBe('<p>First line<br>Second line</p>');
    expect(markdownToHtml('> quoted\n> twice')).toBe('<blockquote>\n<p>quoted<br>twice</p>\n</blockquote>');
    expect(markdownToHtml('- one\n- two')).toBe('<ul>\n<li>one</li>\n<li>two</li>\n</ul>');
    expect(markdownToHtml('3. three\n4. four')).toBe('<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>');
    expect(markdownToHtml('||secret **plan**|| but a || b')).toBe(
      '<p><span class="md-spoiler">secret <strong>plan</strong></span> but a || b</p>',
    );
  });

  it('makes http(s) and mailto links that open in a new tab, and nothing else', () => {
    const rel = `target="_blank" rel="${LINK_REL}"`;
    expect(markdownToHtml('[docs](https://example.org/docs)')).toBe(
      `<p><a href="https://example.org/docs" ${rel}>docs</a></p>`,
    );
    expect(markdownToHtml('see https://example.org/a.')).toBe(
      `<p>see <a href="https://example.org/a" ${rel}>https://example.org/a</a>.</p>`,
    );
    expect(markdownToHtml('mail ada@example.org')).toBe(
      `<p>mail <a href="mailto:ada@example.org" ${rel}>ada@example.org</a></p>`,
    );
    expect(markdownToHtml('[click](javascript:alert(1))')).toBe('<p>click</p>');
    expect(markdownToHtml('[home](/settings)')).toBe('<p>home</p>');
  });

  it('shows HTML in the source as text, as before', () => {
    expect(markdownToHtml('Plans and <b>not bold</b> & more')).toBe(
      '<p>Plans and &lt;b&gt;not bold&lt;/b&gt; &amp; more</p>',
    );
    expect(markdownToHtml('<div>\nblock\n</div>')).toBe('<p>&lt;div&gt;<br>block<br>&lt;/div&gt;</p>');
    expect(markdownToHtml('<!-- note -->')).toBe('<p>&lt;!-- note --&gt;</p>');
  });

  it('keeps headings, rules, tables, images and task boxes out of chat lines', () => {
    expect(markdownToHtml('# Title')).toBe('<p><strong>Title</strong></p>');
    expect(markdownToHtml('above\n---')).toBe('<p>above<br>---</p>');
    expect(markdownToHtml('| a | b |\n|---|---|')).toBe('<p>| a | b |<br>|---|---|</p>');
    expect(markdownToHtml('![cat](https://example.org/cat.png)')).toBe('<p>![cat](https://example.org/cat.png)</p>');
    expect(markdownToHtml('- [x] done')).toBe('<ul>\n<li>[x] done</li>\n</ul>');
  });

  it('highlights fenced code in the registered languages only', () => {
    const ts = markdownToHtml('```ts\nconst x: number = 1;\n```');
    expect(ts).toMatch(/^<pre><code class="hljs language-ts"><span class="hljs-keyword">const<\/span>/);
    for (const lang of ['js', 'typescript', 'py', 'rust', 'go', 'java', 'c', 'cpp', 'sh', 'shell', 'json', 'yml']) {
      expect(markdownToHtml(`\`\`\`${lang}\nx = 1\n\`\`\``), lang).toContain(`language-${lang}"`);
    }
    for (const lang of ['sql', 'html', 'xml', 'css', 'diff', 'md']) {
      expect(markdownToHtml(`\`\`\`${lang}\n<a>\n\`\`\``), lang).toContain(`language-${lang}"`);
    }
    expect(markdownToHtml('```cobol\nDISPLAY "<hi>"\n```')).toBe(
      '<pre><code class="hljs">DISPLAY &quot;&lt;hi&gt;&quot;</code></pre>',
    );
    expect(markdownToHtml('```html\n<script>alert(1)</script>\n```')).not.toContain('<script');
  });

  it.each(XSS_CORPUS)('emits nothing executable for %j', (input) => {
    expectSafe(markdownToHtml(input));
  });

  it('emits only the allowlist for any mix of Markdown and HTML syntax', () => {
    const pieces = fc.constantFrom(
      '<',
      '>',
      '"',
      "'",
      '`',
      '```',
      '*',
      '_',
      '~',
      '||',
      '[',
      ']',
      '(',
      ')',
      '!',
      '\n',
      ' ',
      '> ',
      '- ',
      '1. ',
      '#',
      '&',
      '&#x3C;',
      '\\',
      'javascript:',
      'data:',
      'https://x.example/',
      'mailto:a@b.example',
      'script',
      'img src=x onerror=alert(1)',
      'a href=',
      '<!--',
      '-->',
      'text',
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 30 }), (parts) => {
        expectSafe(markdownToHtml(parts.join('')));
      }),
      { numRuns: 500 },
    );
  });
});

describe('safeLinkHref', () => {
  it('accepts http(s) and mailto URLs only', () => {
    expect(safeLinkHref('https://example.org')).toBe('https://example.org/');
    expect(safeLinkHref('http://example.org/a b')).toBe('http://example.org/a%20b');
    expect(safeLinkHref('mailto:ada@example.org')).toBe('mailto:ada@example.org');
    for (const bad of [
      'javascript:alert(1)',
      ' JAVASCRIPT:alert(1)',
      'data:text/html,x',
      'vbscript:x',
      'file:///etc/passwd',
      '/relative',
      '//evil.example',
      'https://',
      'mailto:',
    ]) {
      expect(safeLinkHref(bad), bad).toBeNull();
    }
  });
});

describe('renderMessage without a DOM', () => {
  it('falls back to escaped text instead of trusting unsanitized HTML', () => {
    expect(renderMessage('**hi** <img src=x onerror=alert(1)>\nnext')).toEqual([
      { kind: 'html', html: `<p>**hi** ${escapeHtml('<img src=x onerror=alert(1)>')}<br>next</p>` },
    ]);
  });
});

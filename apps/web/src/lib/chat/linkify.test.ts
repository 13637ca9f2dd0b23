import { describe, expect, it } from 'vitest';
import { linkify, safeHref } from './linkify';

const join = (text: string) =>
  linkify(text)
    .map((p) => p.text)
    .join('');

describe('linkify', () => {
  it('keeps plain text as one part', () => {
    expect(linkify('hello <b>world</b>')).toEqual([{ kind: 'text', text: 'hello <b>world</b>' }]);
  });

  it('turns http(s) URLs into links and leaves sentence punctuation outside', () => {
    expect(linkify('see https://example.org/a?b=1, then (http://x.test/y).')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
      { kind: 'text', text: ', then (' },
      { kind: 'link', text: 'http://x.test/y', href: 'http://x.test/y' },
      { kind: 'text', text: ').' },
    ]);
  });

  it('keeps balanced brackets inside a URL', () => {
    const parts = linkify('https://en.wikipedia.org/wiki/Engine_(computing)!');
    expect(parts[0]).toMatchObject({ kind: 'link', text: 'https://en.wikipedia.org/wiki/Engine_(computing)' });
  });

  it('never links other schemes, and gives back the text unchanged', () => {
    for (const text of ['javascript:alert(1)', 'data:text/html,<script>x</script>', 'mailto:a@b.c', 'https://']) {
      expect(linkify(text).every((p) => p.kind === 'text')).toBe(true);
      expect(join(text)).toBe(text);
    }
    const mixed = 'a https://a.test/"onmouseover=x b\nhttps://b.test/<script>';
    expect(join(mixed)).toBe(mixed);
    for (const part of linkify(mixed)) if (part.kind === 'link') expect(part.href).not.toMatch(/[<>"]/);
  });

  it('accepts only http(s) hrefs', () => {
    expect(safeHref('https://example.org')).toBe('https://example.org/');
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('not a url')).toBeNull();
  });
});

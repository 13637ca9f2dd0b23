import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { markdownToHtml } from '../markdown';
import { FORMAT_ACTIONS, applyFormat, formatForKey, type FormatKind, type Selection } from './format';

/** A selection written with [ and ] around the selected part, or | for a caret. */
function sel(marked: string): Selection {
  if (marked.includes('|')) {
    const at = marked.indexOf('|');
    return { text: marked.replace('|', ''), start: at, end: at };
  }
  const start = marked.indexOf('[');
  const end = marked.indexOf(']') - 1;
  return { text: marked.replace('[', '').replace(']', ''), start, end };
}

/** The selection written back the same way. */
function show({ text, start, end }: Selection): string {
  if (start === end) return `${text.slice(0, start)}|${text.slice(start)}`;
  return `${text.slice(0, start)}[${text.slice(start, end)}]${text.slice(end)}`;
}

const fmt = (kind: FormatKind, marked: string) => show(applyFormat(kind, sel(marked)));

describe('applyFormat', () => {
  it('wraps the selection in the inline Markdown the renderer reads', () => {
    expect(fmt('bold', 'say [hello] now')).toBe('say **[hello]** now');
    expect(fmt('italic', '[hello]')).toBe('_[hello]_');
    expect(fmt('strike', '[old]')).toBe('~~[old]~~');
    expect(fmt('code', '[x = 1]')).toBe('`[x = 1]`');
    expect(fmt('spoiler', 'it was [him]')).toBe('it was ||[him]||');
    expect(markdownToHtml(applyFormat('bold', sel('say [hello] now')).text)).toBe(
      '<p>say <strong>hello</strong> now</p>',
    );
    expect(markdownToHtml(applyFormat('spoiler', sel('[him]')).text)).toBe(
      '<p><span class="md-spoiler">him</span></p>',
    );
  });

  it('puts the caret between two markers when nothing is selected', () => {
    expect(fmt('bold', 'a |b')).toBe('a **|**b');
    expect(fmt('spoiler', '|')).toBe('|||||');
  });

  it('keeps the spaces of a selection outside the markers, and wraps line by line', () => {
    expect(fmt('bold', 'say[ hello ]now')).toBe('say[ **hello** ]now');
    expect(fmt('italic', '[one\n\ntwo]')).toBe('[_one_\n\n_two_]');
    expect(markdownToHtml(applyFormat('bold', sel('[one\ntwo]')).text)).toBe(
      '<p><strong>one</strong><br><strong>two</strong></p>',
    );
  });

  it('removes the format again', () => {
    expect(fmt('bold', 'say **[hello]** now')).toBe('say [hello] now');
    expect(fmt('bold', 'say [**hello**] now')).toBe('say [hello] now');
    expect(fmt('code', '`[x]`')).toBe('[x]');
  });

  it('makes a fenced code block on lines of its own', () => {
    expect(fmt('codeblock', 'look [let x = 1] ok')).toBe('look \n```\n[let x = 1]\n```\n ok');
    expect(fmt('codeblock', '|')).toBe('```\n|\n```');
    expect(markdownToHtml(applyFormat('codeblock', sel('[let x]')).text)).toContain('<pre><code');
  });

  it('makes a link with the URL to type selected, or the text to type when a URL was selected', () => {
    expect(fmt('link', 'see [the docs]')).toBe('see [the docs]([https://])');
    expect(fmt('link', 'see [https://example.org/a]')).toBe('see [|](https://example.org/a)');
    expect(fmt('link', '|')).toBe('[]([https://])');
  });

  it('quotes and lists every line the selection touches, and undoes it', () => {
    expect(fmt('quote', 'a\nb[c\nd]e\nf')).toBe('a\n[> bc\n> de]\nf');
    expect(fmt('quote', '[> one\n> two]')).toBe('[one\ntwo]');
    expect(fmt('list', 'milk|')).toBe('- milk|');
    expect(fmt('list', '- milk|')).toBe('milk|');
    expect(markdownToHtml(applyFormat('quote', sel('[hi]')).text)).toBe('<blockquote>\n<p>hi</p>\n</blockquote>');
    expect(markdownToHtml(applyFormat('list', sel('[eggs\nham]')).text)).toBe(
      '<ul>\n<li>eggs</li>\n<li>ham</li>\n</ul>',
    );
  });

  it('undoes an inline format applied twice, for any plain selection', () => {
    const plain = fc.stringMatching(/^[a-z ]{0,12}$/);
    fc.assert(
      fc.property(
        plain,
        fc.stringMatching(/^[a-z][a-z ]{0,10}[a-z]$/),
        plain,
        fc.constantFrom<FormatKind>('bold', 'italic', 'strike', 'code', 'spoiler'),
        (before, selected, after, kind) => {
          const start: Selection = {
            text: before + selected + after,
            start: before.length,
            end: before.length + selected.length,
          };
          const once = applyFormat(kind, start);
          expect(once.text.slice(once.start, once.end)).toBe(selected);
          expect(applyFormat(kind, once)).toEqual(start);
        },
      ),
    );
  });

  it('keeps the selection inside the text, whatever the text and selection', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.nat(), fc.nat(), (text, a, b) => {
        const [start, end] = [a % (text.length + 1), b % (text.length + 1)].sort((x, y) => x - y) as [number, number];
        for (const kind of FORMAT_ACTIONS.map((f) => f.kind)) {
          const out = applyFormat(kind, { text, start, end });
          expect(out.start).toBeGreaterThanOrEqual(0);
          expect(out.end).toBeGreaterThanOrEqual(out.start);
          expect(out.end).toBeLessThanOrEqual(out.text.length);
        }
      }),
    );
  });
});

describe('formatForKey', () => {
  const key = (k: string, mods: Partial<Record<'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey', boolean>> = {}) =>
    formatForKey({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });

  it('maps Ctrl or ⌘ with B, I, E, Shift+X and Shift+U (Ctrl+K is the quick switcher)', () => {
    expect(key('b', { ctrlKey: true })).toBe('bold');
    expect(key('I', { metaKey: true })).toBe('italic');
    expect(key('e', { ctrlKey: true })).toBe('code');
    expect(key('u', { ctrlKey: true, shiftKey: true })).toBe('link');
    expect(key('k', { ctrlKey: true })).toBeNull();
    expect(key('X', { ctrlKey: true, shiftKey: true })).toBe('strike');
  });

  it('leaves other keys alone', () => {
    expect(key('b')).toBeNull();
    expect(key('x', { ctrlKey: true })).toBeNull();
    expect(key('b', { ctrlKey: true, altKey: true })).toBeNull();
    expect(key('b', { ctrlKey: true, shiftKey: true })).toBeNull();
    expect(key('Enter', { ctrlKey: true })).toBeNull();
  });
});

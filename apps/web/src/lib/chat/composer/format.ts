/**
 * The formatting toolbar's edits: each wraps the selection in the Markdown the message renderer
 * understands (markdown.ts: `**bold**`, `_italic_`, `~~strike~~`, `` `code` ``, fenced code
 * blocks, `[text](url)`, `> quote`, `||spoiler||`, `- list`). Applying an inline format to
 * text that already has it removes it again, as toolbars do.
 */

export type FormatKind = 'bold' | 'italic' | 'strike' | 'code' | 'codeblock' | 'link' | 'quote' | 'spoiler' | 'list';

export interface Selection {
  text: string;
  start: number;
  end: number;
}

export interface FormatAction {
  kind: FormatKind;
  label: string;
  /** What the button shows: a short glyph in the font (no icon needed). */
  glyph: string;
  /** As in `aria-keyshortcuts`; also shown in the tooltip. */
  shortcut: string | null;
}

export const FORMAT_ACTIONS: readonly FormatAction[] = [
  { kind: 'bold', label: 'Bold', glyph: 'B', shortcut: 'Control+B' },
  { kind: 'italic', label: 'Italic', glyph: 'I', shortcut: 'Control+I' },
  { kind: 'strike', label: 'Strikethrough', glyph: 'S', shortcut: 'Control+Shift+X' },
  { kind: 'code', label: 'Inline code', glyph: '</>', shortcut: 'Control+E' },
  { kind: 'codeblock', label: 'Code block', glyph: '{ }', shortcut: null },
  { kind: 'link', label: 'Link', glyph: '🔗', shortcut: 'Control+Shift+U' },
  { kind: 'quote', label: 'Quote', glyph: '❝', shortcut: null },
  { kind: 'spoiler', label: 'Spoiler', glyph: '▒', shortcut: null },
  { kind: 'list', label: 'List', glyph: '•', shortcut: null },
];

const INLINE: Partial<Record<FormatKind, string>> = {
  bold: '**',
  italic: '_',
  strike: '~~',
  code: '`',
  spoiler: '||',
};

/**
 * The format a key press asks for (Ctrl or ⌘ with B, I, E, Shift+X, Shift+U), if any. A link is
 * Shift+U as in Slack, because Ctrl+K belongs to the quick switcher everywhere in the app.
 */
export function formatForKey(event: {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}): FormatKind | null {
  if (!(event.ctrlKey || event.metaKey) || event.altKey) return null;
  const key = event.key.toLowerCase();
  if (event.shiftKey) return ({ x: 'strike', u: 'link' } as const)[key as 'x' | 'u'] ?? null;
  return ({ b: 'bold', i: 'italic', e: 'code' } as const)[key as 'b' | 'i' | 'e'] ?? null;
}

export function applyFormat(kind: FormatKind, sel: Selection): Selection {
  const marker = INLINE[kind];
  if (marker) return toggleInline(sel, marker);
  if (kind === 'codeblock') return codeBlock(sel);
  if (kind === 'link') return link(sel);
  return togglePrefix(sel, kind === 'quote' ? '> ' : '- ');
}

/** Wraps each non-empty line of the selection (emphasis does not cross lines), or unwraps it. */
function toggleInline(sel: Selection, marker: string): Selection {
  const { text, start, end } = sel;
  const m = marker.length;
  // Already wrapped just outside the selection: unwrap.
  if (start >= m && text.slice(start - m, start) === marker && text.slice(end, end + m) === marker) {
    return {
      text: text.slice(0, start - m) + text.slice(start, end) + text.slice(end + m),
      start: start - m,
      end: end - m,
    };
  }
  const selected = text.slice(start, end);
  // The selection includes its markers: unwrap.
  if (
    selected.length >= 2 * m &&
    selected.startsWith(marker) &&
    selected.endsWith(marker) &&
    !selected.includes('\n')
  ) {
    const inner = selected.slice(m, -m);
    return { text: text.slice(0, start) + inner + text.slice(end), start, end: start + inner.length };
  }
  if (start === end) {
    return { text: text.slice(0, start) + marker + marker + text.slice(end), start: start + m, end: start + m };
  }
  // Markers hug the words: "**word** " renders, "**word **" does not.
  const wrapped = selected
    .split('\n')
    .map((line) => {
      const match = /^(\s*)(.*?)(\s*)$/.exec(line)!;
      return match[2] ? `${match[1]}${marker}${match[2]}${marker}${match[3]}` : line;
    })
    .join('\n');
  if (!selected.includes('\n') && selected.trim() === selected) {
    return { text: text.slice(0, start) + wrapped + text.slice(end), start: start + m, end: end + m };
  }
  return { text: text.slice(0, start) + wrapped + text.slice(end), start, end: start + wrapped.length };
}

/** A fenced block on lines of its own, the caret (or the selection) inside it. */
function codeBlock({ text, start, end }: Selection): Selection {
  const before = start > 0 && text[start - 1] !== '\n' ? '\n' : '';
  const after = end < text.length && text[end] !== '\n' ? '\n' : '';
  const open = `${before}\`\`\`\n`;
  const selected = text.slice(start, end);
  const block = `${open}${selected}\n\`\`\`${after}`;
  const inner = start + open.length;
  return { text: text.slice(0, start) + block + text.slice(end), start: inner, end: inner + selected.length };
}

/** `[text](url)`: the URL placeholder selected, or the text to type when a URL was selected. */
function link({ text, start, end }: Selection): Selection {
  const selected = text.slice(start, end);
  if (/^https?:\/\/\S+$/i.test(selected)) {
    const out = `[](${selected})`;
    return { text: text.slice(0, start) + out + text.slice(end), start: start + 1, end: start + 1 };
  }
  const out = `[${selected}](https://)`;
  const url = start + selected.length + 3;
  return { text: text.slice(0, start) + out + text.slice(end), start: url, end: url + 'https://'.length };
}

/** Adds `prefix` to every line the selection touches, or removes it when all have it. */
function togglePrefix({ text, start, end }: Selection, prefix: string): Selection {
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const nextBreak = text.indexOf('\n', end > start && text[end - 1] === '\n' ? end - 1 : end);
  const lineEnd = nextBreak < 0 ? text.length : nextBreak;
  const lines = text.slice(lineStart, lineEnd).split('\n');
  const all = lines.every((line) => line.startsWith(prefix));
  const changed = lines.map((line) => (all ? line.slice(prefix.length) : prefix + line)).join('\n');
  const out = text.slice(0, lineStart) + changed + text.slice(lineEnd);
  if (start === end) {
    const caret = all ? Math.max(lineStart, start - prefix.length) : start + prefix.length;
    return { text: out, start: caret, end: caret };
  }
  return { text: out, start: lineStart, end: lineStart + changed.length };
}

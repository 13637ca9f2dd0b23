/**
 * How message text is cut into search terms, and the snippet shown for a result. The index
 * and the query go through the same steps, so "Café" is found by "cafe" and "CAFÉ".
 */

/** Words: runs of anything but spaces, line breaks and punctuation (MiniSearch's own rule). */
const WORD = /[^\n\r\p{Z}\p{P}]+/gu;
/** A single term is cut to this length (a pasted key or hash still finds itself by its start). */
export const MAX_TERM_LENGTH = 48;

/** Lower case without diacritics ("Ÿé" → "ye"); `ß` and ligatures folded by NFKD where it can. */
export function normalizeTerm(term: string): string {
  return term.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().slice(0, MAX_TERM_LENGTH);
}

export function tokenize(text: string): string[] {
  return text.match(WORD) ?? [];
}

/** The distinct normalized terms of a text, in order of first appearance. */
export function terms(text: string): string[] {
  const out = new Set<string>();
  for (const word of tokenize(text)) {
    const term = normalizeTerm(word);
    if (term) out.add(term);
  }
  return [...out];
}

/** A piece of a snippet: plain text, or a matched word to highlight. */
export interface SnippetPart {
  text: string;
  match: boolean;
}

const SNIPPET_CHARS = 180;
/** How much text comes before the first match. */
const LEAD_CHARS = 50;

/**
 * The part of `text` around its first word whose normalized form is one of `matched`, with
 * those words marked (never HTML: the caller renders the parts as text). Line breaks become
 * spaces; "…" marks text left out.
 */
export function snippet(text: string, matched: ReadonlySet<string>): SnippetPart[] {
  const flat = text.replace(/\s+/g, ' ').trim();
  const spans: [number, number][] = [];
  for (const m of flat.matchAll(WORD)) {
    if (matched.has(normalizeTerm(m[0]))) spans.push([m.index, m.index + m[0].length]);
  }
  let start = 0;
  const first = spans[0];
  if (first && first[0] > LEAD_CHARS) {
    start = first[0] - LEAD_CHARS;
    // Start at a word boundary when there is one close by.
    const space = flat.indexOf(' ', start);
    if (space !== -1 && space < first[0]) start = space + 1;
  }
  let end = Math.min(flat.length, start + SNIPPET_CHARS);
  if (end < flat.length) {
    const space = flat.lastIndexOf(' ', end);
    if (space > start + SNIPPET_CHARS / 2) end = space;
  }
  const parts: SnippetPart[] = [];
  const push = (s: string, match: boolean) => {
    if (!s) return;
    const last = parts.at(-1);
    if (last && last.match === match) last.text += s;
    else parts.push({ text: s, match });
  };
  if (start > 0) push('…', false);
  let at = start;
  for (const [a, b] of spans) {
    if (b <= start || a >= end) continue;
    push(flat.slice(at, Math.max(a, at)), false);
    push(flat.slice(Math.max(a, at), Math.min(b, end)), true);
    at = Math.min(b, end);
  }
  push(flat.slice(at, end), false);
  if (end < flat.length) push('…', false);
  return parts;
}

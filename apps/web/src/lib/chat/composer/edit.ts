/**
 * Applying a computed change to the text box as one small edit, so the browser's undo (Ctrl+Z)
 * takes it back: only the part that differs is replaced.
 */

export interface TextEdit {
  /** Replace text[start, end) … */
  start: number;
  end: number;
  /** … with this. */
  insert: string;
}

/** The smallest single replacement that turns `before` into `after`. */
export function diffText(before: string, after: string): TextEdit {
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before[start] === after[start]) start++;
  let tail = 0;
  while (tail < max - start && before[before.length - 1 - tail] === after[after.length - 1 - tail]) {
    tail++;
  }
  return { start, end: before.length - tail, insert: after.slice(start, after.length - tail) };
}

/**
 * Puts `next` into the text box with [selStart, selEnd) selected. Through the editing command
 * where the browser has it (undo keeps working), else by setting the value; either way an input
 * event fires, so bindings and listeners hear of it.
 */
export function replaceBoxText(box: HTMLTextAreaElement, next: string, selStart: number, selEnd: number): void {
  const edit = diffText(box.value, next);
  box.focus();
  if (edit.start !== edit.end || edit.insert) {
    box.setSelectionRange(edit.start, edit.end);
    let done = false;
    try {
      // Deprecated, but still the only way to edit a text box that the undo history records.
      done = document.execCommand('insertText', false, edit.insert) && box.value === next;
    } catch {
      done = false;
    }
    if (!done) {
      box.value = next;
      box.dispatchEvent(new Event('input', { bubbles: true }));
    }
  }
  box.setSelectionRange(selStart, selEnd);
}

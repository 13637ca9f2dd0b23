/**
 * The rows of a conversation, in order: date separators, the "NEW MESSAGES" line and the messages,
 * each marked as grouped when it continues the previous one (same sender, within five minutes,
 * same day, not a reply) so the view can leave out its name and avatar.
 */
export const GROUP_WINDOW_MS = 5 * 60 * 1000;

export interface TimelineItem {
  id: string;
  senderId: string;
  createdAt: number;
  /** Null for messages still being sent (they come last and never count as new). */
  seq: number | null;
  /** Replies always start a group: their quote needs the header. */
  isReply: boolean;
}

export type TimelineRow<T extends TimelineItem> =
  | { kind: 'date'; key: string; label: string }
  | { kind: 'new'; key: string }
  | { kind: 'item'; key: string; item: T; grouped: boolean };

export interface TimelineOptions {
  /** The reader's read cursor when the conversation opened: later messages of others are new. */
  newAfterSeq: number | null;
  /** The reader's user id: their own messages are never "new". */
  me: string | undefined;
  now?: number;
}

function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

const longDate = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});

/** "Today", "Yesterday" or the full date, in the reader's locale. */
export function dayLabel(ms: number, now = Date.now()): string {
  if (dayKey(ms) === dayKey(now)) return 'Today';
  const yesterday = new Date(now);
  yesterday.setDate(yesterday.getDate() - 1);
  if (dayKey(ms) === dayKey(yesterday.getTime())) return 'Yesterday';
  return longDate.format(new Date(ms));
}

export function buildTimeline<T extends TimelineItem>(items: readonly T[], options: TimelineOptions): TimelineRow<T>[] {
  const rows: TimelineRow<T>[] = [];
  const now = options.now ?? Date.now();
  let previous: T | null = null;
  let lastDay: string | null = null;
  let newShown = false;
  for (const item of items) {
    let breakGroup = false;
    const day = dayKey(item.createdAt);
    if (day !== lastDay) {
      rows.push({ kind: 'date', key: `date:${day}`, label: dayLabel(item.createdAt, now) });
      lastDay = day;
      breakGroup = true;
    }
    if (
      !newShown &&
      options.newAfterSeq !== null &&
      item.seq !== null &&
      item.seq > options.newAfterSeq &&
      item.senderId !== options.me
    ) {
      rows.push({ kind: 'new', key: 'new' });
      newShown = true;
      breakGroup = true;
    }
    const grouped =
      !breakGroup &&
      previous !== null &&
      !item.isReply &&
      previous.senderId === item.senderId &&
      item.createdAt - previous.createdAt < GROUP_WINDOW_MS &&
      item.createdAt >= previous.createdAt;
    rows.push({ kind: 'item', key: item.id, item, grouped });
    previous = item;
  }
  return rows;
}

import { describe, expect, it } from 'vitest';
import { buildTimeline, dayLabel, type TimelineItem } from './timeline';

const MIN = 60_000;
const base = new Date(2026, 2, 10, 12, 0).getTime();
let n = 0;
function item(senderId: string, at: number, extra: Partial<TimelineItem> = {}): TimelineItem {
  n++;
  return { id: `m${n}`, senderId, createdAt: at, seq: n, isReply: false, ...extra };
}

const shape = (rows: ReturnType<typeof buildTimeline>) =>
  rows.map((r) => (r.kind === 'item' ? `${r.item.senderId}${r.grouped ? '+' : ''}` : r.kind));

describe('buildTimeline', () => {
  it('groups one sender within five minutes, and starts again for another sender, a gap or a reply', () => {
    const items = [
      item('ada', base),
      item('ada', base + 2 * MIN),
      item('ada', base + 7 * MIN + 1),
      item('grace', base + 7.5 * MIN),
      item('grace', base + 8 * MIN, { isReply: true }),
      item('grace', base + 9 * MIN),
    ];
    expect(shape(buildTimeline(items, { newAfterSeq: null, me: 'ada', now: base }))).toEqual([
      'date',
      'ada',
      'ada+',
      'ada',
      'grace',
      'grace',
      'grace+',
    ]);
  });

  it('puts a date separator between days, and never groups across it', () => {
    const late = new Date(2026, 2, 10, 23, 59).getTime();
    const items = [item('ada', late), item('ada', late + 2 * MIN)];
    const rows = buildTimeline(items, { newAfterSeq: null, me: 'ada', now: late + 2 * MIN });
    expect(shape(rows)).toEqual(['date', 'ada', 'date', 'ada']);
    expect(rows[0]).toMatchObject({ label: 'Yesterday' });
    expect(rows[2]).toMatchObject({ label: 'Today' });
  });

  it('marks the first message of someone else after the read cursor as new, once', () => {
    const items = [
      item('ada', base),
      item('grace', base + MIN),
      item('ada', base + 2 * MIN),
      item('grace', base + 3 * MIN),
    ];
    const read = items[0]!.seq!;
    // Own messages after the cursor are not new; the line goes before Grace's first.
    expect(shape(buildTimeline(items, { newAfterSeq: read, me: 'ada', now: base }))).toEqual([
      'date',
      'ada',
      'new',
      'grace',
      'ada',
      'grace',
    ]);
    expect(shape(buildTimeline(items, { newAfterSeq: items[3]!.seq!, me: 'ada', now: base }))).not.toContain('new');
  });

  it('labels days in words near today', () => {
    expect(dayLabel(base, base)).toBe('Today');
    expect(dayLabel(base - 24 * 60 * MIN, base)).toBe('Yesterday');
    expect(dayLabel(base - 3 * 24 * 60 * MIN, base)).toMatch(/2026/);
  });
});

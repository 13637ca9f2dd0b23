/** The date filters' values (`yyyy-mm-dd` from a date input) as times, in the reader's time zone. */

/** A `yyyy-mm-dd` value of a date input as local midnight (ms), or undefined. */
export function dayStart(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return undefined;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime();
}

/** The local midnight after the day (the end of a range that includes the day). */
export function dayEnd(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return undefined;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1).getTime();
}

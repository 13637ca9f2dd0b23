import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../test-support/test-db.js';
import { AuditLog } from './audit-log.js';

const DAY = 24 * 60 * 60 * 1000;
const source = { ip: '203.0.113.5', userAgent: 'test' };

describe.each(DIALECTS)('audit log on %s', (dialect) => {
  let t: TestDatabase;
  let clock = Date.UTC(2026, 0, 1);
  let audit: AuditLog;

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    audit = new AuditLog(t.database.db, () => clock);
  });
  afterAll(() => t.drop());

  it('keeps entries inside the retention period and purges older ones', async () => {
    await audit.record('login_ok', source, { actorId: 'u-old' });
    clock += 100 * DAY;
    await audit.record('login_failed', source, { targetId: 'u-new', details: { username: 'x' } });
    expect(await audit.purgeOlderThan(90)).toBe(1);
    const { entries } = await audit.query({ limit: 10 });
    expect(entries).toEqual([
      expect.objectContaining({
        action: 'login_failed',
        target_id: 'u-new',
        ip: '203.0.113.5',
        details: { username: 'x' },
      }),
    ]);
  });

  it('pages newest first with a cursor and filters by user', async () => {
    for (let i = 0; i < 5; i++) {
      clock += 1000;
      await audit.record('logout', source, { actorId: i % 2 === 0 ? 'even' : 'odd', details: { i } });
    }
    const first = await audit.query({ action: 'logout', limit: 2 });
    expect(first.entries.map((e) => e.details.i)).toEqual([4, 3]);
    const second = await audit.query({ action: 'logout', limit: 2, cursor: first.nextCursor! });
    expect(second.entries.map((e) => e.details.i)).toEqual([2, 1]);
    const third = await audit.query({ action: 'logout', limit: 2, cursor: second.nextCursor! });
    expect(third.entries.map((e) => e.details.i)).toEqual([0]);
    expect(third.nextCursor).toBeNull();
    const odd = await audit.query({ userId: 'odd', limit: 10 });
    expect(odd.entries.map((e) => e.details.i)).toEqual([3, 1]);
  });
});

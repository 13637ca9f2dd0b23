import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../apps/server/test/start-process.js';
import { BOTH, HAVE_CHROMIUM, POLL, type Seat, openSeat, shoot } from './browser.js';
import { expectReadable, messageWith, send, statuses, waitForChat } from './chat.js';
import { ADA as OWNER, GRACE as MEMBER, HEDY as LATE } from './people.js';
import { inviteLinkOf, joinThroughInvite, meetInGeneral } from './places.js';
import { findInFiles } from './scan-files.js';
import { closeStage, openStage } from './stage.js';

/**
 * A third person who joins later, in three browser contexts against a real server (the real
 * entry point, SQLite): the owner and a member exchange messages in #general; then a third
 * person registers through an invite and opens #general. The messages sent before they joined
 * were never encrypted for them: they show as messages that could not be decrypted (red lock,
 * the reason "sent before you joined"), never as text, while everything sent after they joined
 * reads normally, also after a reload. Last, no text sent reaches the server's files.
 */

const COMMUNITY = 'Analytical Society';

/** Sent before the third person joined: they must never read these. */
const BEFORE = [
  'Before Hedy: the engine plans are in the drawer',
  'Before Hedy: the compiler passed its first test',
  'Before Hedy: keep the punched cards dry',
];
/** Sent after the third person joined: they read these. */
const AFTER = ['After Hedy: welcome to the society', 'After Hedy: glad you are here'];

describe.skipIf(!HAVE_CHROMIUM)('a person who joins a channel later', () => {
  let server: RunningServer;
  let dataDir: string;
  let browser: Browser;
  let owner: Seat;
  let member: Seat;
  let late: Seat;
  let general = '';

  beforeAll(async () => {
    ({ server, browser, dataDir } = await openStage('late'));
    owner = await openSeat(browser);
    member = await openSeat(browser);
    late = await openSeat(browser);
  });
  afterAll(() => closeStage({ server, browser }));

  it('lets the owner and a member talk in #general', async () => {
    general = await meetInGeneral(server.url, COMMUNITY, [owner.page, OWNER], [member.page, MEMBER]);

    await send(owner.page, BEFORE[0]!);
    await expect.poll(() => messageWith(member.page, BEFORE[0]!).count(), POLL).toBe(1);
    await send(member.page, BEFORE[1]!);
    await expect.poll(() => messageWith(owner.page, BEFORE[1]!).count(), POLL).toBe(1);
    await send(owner.page, BEFORE[2]!);
    await expect.poll(() => messageWith(member.page, BEFORE[2]!).count(), POLL).toBe(1);
  });

  it('shows the third person the earlier messages only as undecryptable, never as text', async () => {
    const link = await inviteLinkOf(owner.page, COMMUNITY);
    await joinThroughInvite(late.page, link, LATE, COMMUNITY, general);
    await waitForChat(late.page);
    await expect.poll(() => late.page.getByTestId('message').count(), POLL).toBe(BEFORE.length);
    // No key for them on this device: waiting for one, or already known to predate it.
    for (const [status] of await statuses(late.page)) expect(['waiting', 'failed']).toContain(status);
    expect(await late.page.getByTestId('message-text').count()).toBe(0);
    const shown = await late.page.locator('body').innerText();
    for (const text of BEFORE) expect(shown).not.toContain(text);
  });

  it('lets the third person read what is sent after they joined', async () => {
    await send(owner.page, AFTER[0]!);
    await send(member.page, AFTER[1]!);
    for (const text of AFTER) {
      await expectReadable(messageWith(late.page, text));
    }
    // The two who were there all along read everything.
    for (const page of [owner.page, member.page]) {
      for (const text of [...BEFORE, ...AFTER]) await expect.poll(() => messageWith(page, text).count(), POLL).toBe(1);
    }
  });

  it('marks the earlier messages with the red lock and the reason once the senders’ keys arrived', async () => {
    const expected = [...BEFORE.map(() => ['failed', 'failed']), ...AFTER.map(() => ['ok', 'ok'])];
    const normalise = (rows: (string | null | undefined)[][]) =>
      rows.map(([status, lock]) => [status, lock === 'verified' ? 'ok' : lock]);
    await expect.poll(async () => normalise(await statuses(late.page)), POLL).toEqual(expected);
    const failed = late.page.getByTestId('message-failed');
    expect(await failed.count()).toBe(BEFORE.length);
    for (const reason of await failed.allInnerTexts()) {
      expect(reason).toContain('This message could not be decrypted.');
      expect(reason).toContain('sent before you joined');
    }
    await shoot(late.page, 'late-joiner-history', BOTH);

    // The same after a reload: what was readable comes from this browser's own store.
    await late.page.reload();
    await waitForChat(late.page);
    await expect.poll(async () => normalise(await statuses(late.page)), POLL).toEqual(expected);
    const shown = await late.page.locator('body').innerText();
    for (const text of BEFORE) expect(shown).not.toContain(text);
    for (const text of AFTER) expect(shown).toContain(text);
  });

  it('never lets a sent text reach the server’s files', async () => {
    const found = await findInFiles(dataDir, [...BEFORE, ...AFTER]);
    // The search does read the database: the community's name (not end-to-end encrypted) is in it.
    const control = await findInFiles(dataDir, [COMMUNITY]);
    expect(control.files).toBeGreaterThan(0);
    expect(control.hits.length, 'the community name should be found in the database').toBeGreaterThan(0);
    expect(found.hits).toEqual([]);
  });

  it('logged no errors in the browsers', () => {
    expect(owner.problems).toEqual([]);
    expect(member.problems).toEqual([]);
    expect(late.problems).toEqual([]);
  });
});

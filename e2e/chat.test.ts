import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../apps/server/test/start-process.js';
import { BOTH, DESKTOP, HAVE_CHROMIUM, POLL, openSeat, shoot } from './browser.js';
import { act, composer, expectReadable, messageWith, send, statuses, waitForChat } from './chat.js';
import { ADA as OWNER, GRACE as MEMBER, signIn } from './people.js';
import { inviteLinkOf, joinThroughInvite, openDmWith, registerWithCommunity } from './places.js';
import { findInFiles } from './scan-files.js';
import { closeStage, openStage } from './stage.js';

/**
 * The encrypted chat view, with two people in two browser contexts against a real server (the
 * real entry point, SQLite): the owner registers and creates a community (which comes with
 * #general), the second person registers through its invite link; in #general they exchange
 * messages with typing indicators, a reply, a reaction, an edit and a deletion; after a reload
 * both still read the whole history (decrypted from their browsers' key stores); a DM works the
 * same way. Then every file of the server's data directory (the SQLite database and its WAL
 * included) is searched for the texts sent: none is there. Last, the second person signs in
 * from a third browser: it has no key yet, so the chat area explains the choices; starting over
 * with a new identity makes the owner's side show the key-change banner until accepted.
 * Screenshots at desktop and phone size land in test-results/screenshots.
 */

const COMMUNITY = 'Analytical Society';

/** Every text sent in this test: none may appear in the server's files. */
const SECRETS = {
  hello: 'Hello Grace, the engine weaves algebraic patterns',
  reply: 'Hi Ada, nice to read you here',
  edited: 'Hi Ada, nice to read you here (bugs fixed)',
  link: 'Plans at https://example.org/engine and <b>not bold</b> & more',
  lines: 'First line of the note\nSecond line of the note',
  deleted: 'This sentence will be deleted soon',
  dmHello: 'Private hello, only for Grace',
  dmReply: 'Private reply from Grace to Ada',
  afterRestore: 'Your backup worked, the old key is back',
  afterReset: 'Welcome back with your new key, Grace',
};
const BACKUP_PASSPHRASE = 'punched cards and brass gears';

describe.skipIf(!HAVE_CHROMIUM)('the encrypted chat view', () => {
  let server: RunningServer;
  let dataDir: string;
  let browser: Browser;
  let owner: Page;
  let member: Page;
  let ownerProblems: string[];
  let memberProblems: string[];
  let channelPath = '';
  let dmPath = '';

  beforeAll(async () => {
    ({ server, browser, dataDir } = await openStage('chat'));
    ({ page: owner, problems: ownerProblems } = await openSeat(browser));
  });
  afterAll(() => closeStage({ server, browser }));

  /** Signs `who` in from a new browser (a fresh profile: no keys) and opens the DM. */
  async function signInElsewhere(who: typeof MEMBER) {
    const seat = await openSeat(browser);
    await signIn(seat.page, server.url, who);
    await seat.page.goto(new URL(dmPath, server.url).toString());
    return seat;
  }

  it('sets up encryption for the owner, who lands in #general with a composer', async () => {
    channelPath = await registerWithCommunity(owner, server.url, OWNER, COMMUNITY);
    await waitForChat(owner);
    expect(await owner.getByText('Welcome to #general').count()).toBe(1);
    // Nothing but the intro yet.
    expect(await owner.getByTestId('message').count()).toBe(0);
  });

  it('lets the second person join through an invite and set up encryption too', async () => {
    const inviteLink = await inviteLinkOf(owner, COMMUNITY);
    ({ page: member, problems: memberProblems } = await openSeat(browser));
    await joinThroughInvite(member, inviteLink, MEMBER, COMMUNITY, channelPath);
    await waitForChat(member);
  });

  it('exchanges encrypted messages with typing, a reply, a reaction, an edit and a deletion', async () => {
    // Typing shows on the other side.
    await composer(owner).click();
    await composer(owner).pressSequentially('Hello', { delay: 20 });
    await expect.poll(() => member.getByTestId('typing').textContent(), POLL).toContain('Ada Lovelace is typing…');
    await composer(owner).fill('');
    await send(owner, SECRETS.hello);

    const hello = messageWith(member, SECRETS.hello);
    await expectReadable(hello);
    expect(await hello.getByTestId('message-author').textContent()).toBe(OWNER.displayName);
    // The typing line clears once the message is in.
    await expect.poll(() => member.getByTestId('typing').textContent(), POLL).not.toContain('typing');

    // A reply, typed while the owner watches.
    await act(hello, 'Reply');
    await expect.poll(() => member.getByTestId('reply-bar').textContent(), POLL).toContain(OWNER.displayName);
    await composer(member).pressSequentially('Hi Ada', { delay: 20 });
    await expect.poll(() => owner.getByTestId('typing').textContent(), POLL).toContain('Grace Hopper is typing…');
    await composer(member).fill('');
    await send(member, SECRETS.reply);
    const reply = messageWith(owner, SECRETS.reply);
    await expect.poll(() => reply.count(), POLL).toBe(1);
    expect(await reply.getByTestId('reply-quote').textContent()).toContain(SECRETS.hello);

    // A reaction, with who reacted on hover.
    await act(reply, 'Add a reaction');
    await owner.getByRole('button', { name: 'React with 👍' }).click();
    const thumbs = messageWith(member, SECRETS.reply).locator('[data-testid="reaction"][data-emoji="👍"]');
    await expect.poll(() => thumbs.count(), POLL).toBe(1);
    expect(await thumbs.getAttribute('title')).toBe('Ada Lovelace reacted with 👍');
    expect(await thumbs.textContent()).toContain('1');

    // ↑ in the empty composer edits one's last message.
    await composer(member).click();
    await member.keyboard.press('ArrowUp');
    const editor = member.getByLabel('Edit message');
    await expect.poll(() => editor.count(), POLL).toBe(1);
    await editor.fill(SECRETS.edited);
    await member.keyboard.press('Enter');
    const edited = messageWith(owner, SECRETS.edited);
    await expect.poll(() => edited.count(), POLL).toBe(1);
    expect(await edited.getByTestId('edited').textContent()).toBe('(edited)');
    // The reaction survived the edit.
    expect(await edited.locator('[data-testid="reaction"]').count()).toBe(1);

    // Links become links; markup stays text.
    await send(owner, SECRETS.link);
    const linked = messageWith(member, 'Plans at');
    await expect.poll(() => linked.count(), POLL).toBe(1);
    expect(await linked.getByRole('link', { name: 'https://example.org/engine' }).getAttribute('href')).toBe(
      'https://example.org/engine',
    );
    expect(await linked.getByTestId('message-text').textContent()).toBe(SECRETS.link);
    expect(await linked.locator('b').count()).toBe(0);

    // Shift+Enter makes a new line.
    await send(member, SECRETS.lines);
    const lines = messageWith(owner, 'First line of the note');
    await expect.poll(() => lines.count(), POLL).toBe(1);
    expect(await lines.getByTestId('message-text').innerText()).toContain(SECRETS.lines);

    // Delete, after a confirmation.
    await send(owner, SECRETS.deleted);
    await expect.poll(() => messageWith(member, SECRETS.deleted).count(), POLL).toBe(1);
    await act(messageWith(owner, SECRETS.deleted), 'Delete');
    const confirm = owner.getByRole('dialog', { name: 'Delete this message?' });
    await expect.poll(() => confirm.count(), POLL).toBe(1);
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    for (const page of [owner, member]) {
      await expect.poll(() => page.getByTestId('message-deleted').count(), POLL).toBe(1);
      await expect.poll(() => messageWith(page, SECRETS.deleted).count(), POLL).toBe(0);
    }

    // Every message decrypted (green lock), except the deleted one.
    for (const page of [owner, member]) {
      const shown = await statuses(page);
      expect(shown.filter(([status]) => status === 'deleted')).toHaveLength(1);
      for (const [status, lock] of shown.filter(([s]) => s !== 'deleted')) {
        expect(status).toBe('ok');
        expect(lock).toMatch(/^(ok|verified)$/);
      }
    }

    await shoot(owner, 'chat-channel', BOTH);
    await member.getByTestId('message').first().hover();
    await shoot(member, 'chat-channel-member', { desktop: DESKTOP });
  });

  it('reads the whole history again after a reload (from the browsers’ own key stores)', async () => {
    for (const page of [owner, member]) {
      await page.reload();
      await waitForChat(page);
      await expect.poll(() => messageWith(page, SECRETS.hello).count(), POLL).toBe(1);
      for (const text of [SECRETS.edited, 'Plans at', 'First line of the note']) {
        expect(await messageWith(page, text).count(), text).toBe(1);
      }
      expect(await messageWith(page, SECRETS.edited).getByTestId('reply-quote').textContent()).toContain(SECRETS.hello);
      const shown = await statuses(page);
      expect(shown).toHaveLength(5);
      for (const [status] of shown) expect(['ok', 'deleted']).toContain(status);
    }
    await shoot(member, 'chat-after-reload', { desktop: DESKTOP });
  });

  it('works in a DM', async () => {
    dmPath = await openDmWith(owner, MEMBER);
    await waitForChat(owner);
    await send(owner, SECRETS.dmHello);

    await member.goto(new URL(dmPath, server.url).toString());
    await waitForChat(member);
    await expect.poll(() => messageWith(member, SECRETS.dmHello).count(), POLL).toBe(1);
    expect(await messageWith(member, SECRETS.dmHello).getAttribute('data-status')).toBe('ok');
    await send(member, SECRETS.dmReply);
    await expect.poll(() => messageWith(owner, SECRETS.dmReply).count(), POLL).toBe(1);
    expect(await messageWith(owner, SECRETS.dmReply).getAttribute('data-status')).toBe('ok');
    await shoot(owner, 'chat-dm', BOTH);

    // A DM message decrypts once; after a reload it comes from the browser's own store.
    for (const page of [owner, member]) {
      await page.reload();
      await waitForChat(page);
      await expect.poll(() => messageWith(page, SECRETS.dmHello).count(), POLL).toBe(1);
      expect(await messageWith(page, SECRETS.dmReply).count()).toBe(1);
      for (const [status] of await statuses(page)) expect(status).toBe('ok');
    }
  });

  it('marks NEW MESSAGES from the read cursor, sticks to the bottom only when the reader is there, and pages older history', async () => {
    // Grace stays in the DM while Ada writes 60 notes in #general.
    await owner.goto(new URL(channelPath, server.url).toString());
    await waitForChat(owner);
    for (let i = 1; i <= 60; i++) {
      await composer(owner).fill(`Note ${i} about the engine`);
      await owner.keyboard.press('Enter');
    }
    await expect.poll(() => messageWith(owner, 'Note 60 about').count(), POLL).toBe(1);
    await expect.poll(() => owner.getByTestId('pending-message').count(), POLL).toBe(0);

    await member.goto(new URL(channelPath, server.url).toString());
    await waitForChat(member);
    const line = member.getByTestId('new-messages');
    await expect.poll(() => line.count(), POLL).toBe(1);
    expect(await member.locator('[data-testid="new-messages"] + [data-testid="message"]').textContent()).toContain(
      'Note 1 about the engine',
    );
    await expect.poll(() => line.isVisible(), POLL).toBe(true);
    const jump = member.getByTestId('jump-to-latest');
    await expect.poll(() => jump.isVisible(), POLL).toBe(true);
    await shoot(member, 'chat-new-messages', BOTH);
    await jump.click();
    await expect.poll(() => jump.count(), POLL).toBe(0);

    // Scrolled up, Grace stays where she is when a message arrives; the button counts it.
    const scroller = member.getByTestId('message-scroller');
    await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight - el.clientHeight - 700));
    await member.waitForTimeout(200);
    const before = await scroller.evaluate((el) => el.scrollTop);
    await send(owner, 'Note 61 while Grace reads back');
    await expect.poll(() => messageWith(member, 'Note 61 while').count(), POLL).toBe(1);
    await member.waitForTimeout(300);
    expect(Math.abs((await scroller.evaluate((el) => el.scrollTop)) - before)).toBeLessThanOrEqual(2);
    await expect.poll(() => jump.textContent(), POLL).toContain('1 new message');
    await jump.click();
    // At the bottom, the next message scrolls into view by itself.
    await send(owner, 'Note 62 at the bottom');
    await expect.poll(() => messageWith(member, 'Note 62 at').count(), POLL).toBe(1);
    await expect
      .poll(() => scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight), POLL)
      .toBeLessThanOrEqual(48);

    // History comes in pages: the oldest messages load when scrolling up, keeping the place.
    await owner.reload();
    await waitForChat(owner);
    await expect.poll(() => messageWith(owner, 'Note 62 at').count(), POLL).toBe(1);
    expect(await messageWith(owner, SECRETS.hello).count()).toBe(0);
    expect(await owner.getByTestId('chat-intro').count()).toBe(0);
    const ownerScroller = owner.getByTestId('message-scroller');
    await ownerScroller.evaluate((el) => (el.scrollTop = 0));
    await expect.poll(() => messageWith(owner, SECRETS.hello).count(), POLL).toBe(1);
    expect(await ownerScroller.evaluate((el) => el.scrollTop)).toBeGreaterThan(200);
    await ownerScroller.evaluate((el) => (el.scrollTop = 0));
    await expect.poll(() => owner.getByTestId('chat-intro').count(), POLL).toBe(1);
    for (const [status] of await statuses(owner)) expect(['ok', 'deleted']).toContain(status);
  });

  it('never lets a sent text reach the server’s files', async () => {
    const found = await findInFiles(dataDir, [...Object.values(SECRETS), ...SECRETS.lines.split('\n')]);
    // The search does read the database: the community's name (not end-to-end encrypted) is in it.
    const control = await findInFiles(dataDir, [COMMUNITY]);
    expect(control.files).toBeGreaterThan(0);
    expect(control.hits.length, 'the community name should be found in the database').toBeGreaterThan(0);
    expect(found.hits).toEqual([]);
  });

  it('sets up a new browser of the same account from a key backup', async () => {
    // Grace saves a key backup in her first browser.
    for (const page of [owner, member]) {
      await page.goto(new URL(dmPath, server.url).toString());
      await waitForChat(page);
    }
    await member.getByRole('button', { name: 'Save a key backup' }).click();
    const dialog = member.getByTestId('key-backup-dialog');
    await expect.poll(() => dialog.count(), POLL).toBe(1);
    await dialog.getByLabel('Passphrase', { exact: true }).fill(BACKUP_PASSPHRASE);
    await dialog.getByLabel('Confirm passphrase').fill(BACKUP_PASSPHRASE);
    await shoot(member, 'chat-key-backup', BOTH);
    const download = member.waitForEvent('download');
    await dialog.getByRole('button', { name: 'Save the backup file' }).click();
    const backupFile = path.join(dataDir, '..', `${path.basename(dataDir)}-key-backup.bin`);
    await (await download).saveAs(backupFile);
    await expect.poll(() => dialog.getByText('Saved.', { exact: false }).count(), POLL).toBe(1);
    await dialog.getByRole('button', { name: 'Done' }).click();

    // A new browser has no key: the chat area explains the choices.
    const { page: third, context, problems } = await signInElsewhere(MEMBER);
    const screen = third.getByTestId('e2e-provisioning');
    await expect.poll(() => screen.count(), POLL).toBe(1);
    expect(await composer(third).count()).toBe(0);
    expect(await screen.getByRole('button', { name: 'Start over with a new identity' }).isDisabled()).toBe(true);
    await shoot(third, 'chat-provisioning', BOTH);
    await screen.getByRole('heading', { name: 'Start over with a new identity' }).scrollIntoViewIfNeeded();
    await shoot(third, 'chat-provisioning-start-over', { desktop: DESKTOP });

    await screen.locator('input[type="file"]').setInputFiles(backupFile);
    await screen.getByLabel('Passphrase').fill('not the passphrase');
    await screen.getByRole('button', { name: 'Restore the key' }).click();
    await expect.poll(() => screen.getByText('That passphrase does not open this backup.').count(), POLL).toBe(1);
    await screen.getByLabel('Passphrase').fill(BACKUP_PASSPHRASE);
    await screen.getByRole('button', { name: 'Restore the key' }).click();
    await waitForChat(third);
    // Same identity: the owner sees no key change, and new messages reach both of Grace's browsers.
    // (Messages from before this browser existed were not encrypted for it: red locks, no text.)
    await expect.poll(() => third.getByTestId('message').count(), POLL).toBe(2);
    for (const [status, lock] of await statuses(third)) {
      expect(status).toBe('failed');
      expect(lock).toBe('failed');
    }
    expect(await third.getByTestId('message-text').count()).toBe(0);
    await shoot(third, 'chat-restored-history', { desktop: DESKTOP });
    await send(owner, SECRETS.afterRestore);
    for (const page of [third, member]) {
      await expect.poll(() => messageWith(page, SECRETS.afterRestore).count(), POLL).toBe(1);
      expect(await messageWith(page, SECRETS.afterRestore).getAttribute('data-status')).toBe('ok');
    }
    expect(await owner.getByTestId('trust-banner').count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('lets a new browser start over with a new identity, which contacts must accept', async () => {
    const { page: fourth, context, problems } = await signInElsewhere(MEMBER);
    const screen = fourth.getByTestId('e2e-provisioning');
    await expect.poll(() => screen.count(), POLL).toBe(1);
    const startOver = screen.getByRole('button', { name: 'Start over with a new identity' });
    await screen.getByLabel(/I understand that old messages/).check();
    await startOver.click();
    await waitForChat(fourth);
    await expect.poll(() => fourth.getByTestId('message').count(), POLL).toBe(3);
    for (const [status] of await statuses(fourth)) expect(status).toBe('failed');
    expect(await fourth.getByTestId('message-text').count()).toBe(0);
    await shoot(fourth, 'chat-new-identity-history', { desktop: DESKTOP });

    // The owner is warned, cannot send until accepting the new key, and then can.
    await expect.poll(() => owner.getByTestId('trust-banner').count(), POLL).toBe(1);
    expect(await owner.getByTestId('trust-banner').textContent()).toContain('Grace Hopper’s security key changed');
    expect(await owner.getByTestId('composer-disabled').count()).toBe(1);
    await shoot(owner, 'chat-key-changed', BOTH);
    await owner.getByTestId('trust-banner').getByRole('button', { name: 'Review' }).click();
    const review = owner.getByTestId('review-key-dialog');
    await expect.poll(() => review.count(), POLL).toBe(1);
    await shoot(owner, 'chat-review-key', { desktop: DESKTOP });
    await review.getByRole('button', { name: 'Accept the new key' }).click();
    await expect.poll(() => owner.getByTestId('trust-banner').count(), POLL).toBe(0);
    await send(owner, SECRETS.afterReset);
    await expect.poll(() => messageWith(fourth, SECRETS.afterReset).count(), POLL).toBe(1);
    expect(await messageWith(fourth, SECRETS.afterReset).getAttribute('data-status')).toBe('ok');

    // Grace's first browser lost its device with the old identity, and says so.
    await expect
      .poll(() => member.getByTestId('e2e-gate').textContent(), POLL)
      .toContain('This browser was removed from your encryption devices');
    expect(await composer(member).count()).toBe(0);
    await shoot(member, 'chat-device-removed', { desktop: DESKTOP });

    const found = await findInFiles(dataDir, [SECRETS.afterRestore, SECRETS.afterReset]);
    expect(found.hits).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('logged no errors in the browsers', () => {
    expect(ownerProblems).toEqual([]);
    expect(memberProblems).toEqual([]);
  });
});

import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../apps/server/test/start-process.js';
import { BOTH, DESKTOP, HAVE_CHROMIUM, POLL, openSeat, shoot } from './browser.js';
import { composer, messageWith, send, waitForChat } from './chat.js';
import { HEDY as OWNER, type Person } from './people.js';
import { meetInGeneral, openDmWith } from './places.js';
import { findInFiles } from './scan-files.js';
import { closeStage, openStage } from './stage.js';

/**
 * Threads, pins, forwarding, the message menu and read receipts in the chat view, with two
 * people in two browsers against a real server (SQLite): a reply written in a thread panel
 * reaches the other person's thread panel and the root counts it; a pin shows in the other's
 * pins panel; a message forwarded to their DM arrives decrypted and marked "Forwarded"; the menu
 * opens by right click and by keyboard, whose shortcuts work on a focused message; an edit keeps
 * its history on the editor's device; "Seen by" appears once the other person has read. After a
 * reload (nothing heard live any more) the pins panel still says who pinned and "Seen by" still
 * shows, from what the server stored. None of the texts reaches the server's files. Screenshots
 * at desktop and phone size.
 */

const MEMBER: Person = { username: 'alan', displayName: 'Alan Turing', password: 'universal machine 1936' };
const COMMUNITY = 'Signal Society';

const SECRETS = {
  root: 'Shall we hop frequencies on Tuesday?',
  threadReply: 'Tuesday works, bring the piano rolls',
  pinned: 'Meeting notes live in the red binder',
  forwarded: 'The spread spectrum idea, worth a second look',
  note: 'Have a look at this one',
  draft: 'First draft of the patent text',
  edited: 'Second draft of the patent text',
  seen: 'Did this one reach you?',
};

/** Opens a message's menu with a right click and picks `item`. */
async function fromMenu(page: Page, message: Locator, item: string) {
  await message.click({ button: 'right' });
  const menu = page.getByTestId('message-menu');
  await expect.poll(() => menu.count(), POLL).toBe(1);
  await menu.getByRole('menuitem', { name: item }).click();
}

describe.skipIf(!HAVE_CHROMIUM)('threads, pins, forwarding, the message menu and read receipts', () => {
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
    ({ server, browser, dataDir } = await openStage('threads'));
    ({ page: owner, problems: ownerProblems } = await openSeat(browser));
    ({ page: member, problems: memberProblems } = await openSeat(browser));
  });
  afterAll(() => closeStage({ server, browser }));

  it('brings two people into one community, both with encryption set up', async () => {
    channelPath = await meetInGeneral(server.url, COMMUNITY, [owner, OWNER], [member, MEMBER]);
  });

  it('carries a reply written in a thread to the other person’s thread panel, and counts it', async () => {
    await send(owner, SECRETS.root);
    const root = messageWith(member, SECRETS.root);
    await expect.poll(() => root.count(), POLL).toBe(1);

    // Alan answers in a thread: the panel opens with the root and its own composer.
    await root.hover();
    await root.getByRole('button', { name: 'Reply in thread' }).click();
    const panel = member.getByTestId('thread-panel');
    await expect.poll(() => panel.count(), POLL).toBe(1);
    expect(await panel.getByTestId('thread-root').getByTestId('message-text').textContent()).toContain(SECRETS.root);
    await send(member, SECRETS.threadReply, { box: panel.getByTestId('composer-input'), within: panel });
    await expect.poll(() => messageWith(member, SECRETS.threadReply, panel).count(), POLL).toBe(1);
    // It stays in the thread: the channel shows the count under the root instead.
    expect(await messageWith(member, SECRETS.threadReply).count()).toBe(0);

    const summary = messageWith(owner, SECRETS.root).getByTestId('thread-summary');
    await expect.poll(() => summary.count(), POLL).toBe(1);
    expect(await summary.getByTestId('thread-count').textContent()).toBe('1 reply');
    expect(await messageWith(owner, SECRETS.threadReply).count()).toBe(0);
    await summary.click();
    const ownerPanel = owner.getByTestId('thread-panel');
    await expect.poll(() => messageWith(owner, SECRETS.threadReply, ownerPanel).count(), POLL).toBe(1);
    expect(await messageWith(owner, SECRETS.threadReply, ownerPanel).getAttribute('data-status')).toBe('ok');
    await shoot(owner, 'thread-panel', BOTH);

    // A second reply from Hedy's panel updates Alan's count while his panel is open.
    await send(owner, 'Piano rolls packed', { box: ownerPanel.getByTestId('composer-input'), within: ownerPanel });
    await expect.poll(() => messageWith(member, 'Piano rolls packed', panel).count(), POLL).toBe(1);
    await expect
      .poll(() => messageWith(member, SECRETS.root).getByTestId('thread-count').textContent(), POLL)
      .toBe('2 replies');

    // Escape closes the panel.
    await ownerPanel.getByTestId('composer-input').click();
    await owner.keyboard.press('Escape');
    await expect.poll(() => ownerPanel.count(), POLL).toBe(0);
    await member.getByTestId('thread-panel').getByRole('button', { name: 'Close thread' }).click();
    await expect.poll(() => panel.count(), POLL).toBe(0);
  });

  it('opens the message menu by right click and by keyboard, with working shortcuts', async () => {
    await send(owner, SECRETS.pinned);
    const pinned = messageWith(owner, SECRETS.pinned);
    await pinned.click({ button: 'right' });
    const menu = owner.getByTestId('message-menu');
    await expect.poll(() => menu.count(), POLL).toBe(1);
    const items = await menu.locator('[data-action]').evaluateAll((nodes) => nodes.map((n) => n.textContent?.trim()));
    for (const item of ['Reply', 'Reply in thread', 'Edit', 'Copy text', 'Copy link', 'Pin', 'Forward', 'Delete']) {
      expect(
        items.some((text) => text?.startsWith(item)),
        item,
      ).toBe(true);
    }
    expect(await menu.getByRole('menuitem', { name: 'React with 👍' }).count()).toBe(1);
    await shoot(owner, 'message-menu', { desktop: DESKTOP });
    await owner.keyboard.press('Escape');
    await expect.poll(() => menu.count(), POLL).toBe(0);

    // A long press on a touch screen opens it too, as a sheet at the bottom.
    const box = (await pinned.boundingBox())!;
    const at = { pointerType: 'touch', clientX: box.x + 60, clientY: box.y + 10, bubbles: true };
    await pinned.dispatchEvent('pointerdown', at);
    await expect.poll(() => menu.count(), POLL).toBe(1);
    await pinned.dispatchEvent('pointerup', at);
    expect(await menu.getAttribute('class')).toContain('bottom-0');
    await owner.keyboard.press('Escape');
    await expect.poll(() => menu.count(), POLL).toBe(0);

    // Keyboard: focus a message, ↑ moves to the one before, Enter opens the menu, R replies.
    await pinned.focus();
    await owner.keyboard.press('ArrowUp');
    await expect
      .poll(() =>
        owner.evaluate(() => document.activeElement?.querySelector('[data-testid="message-text"]')?.textContent),
      )
      .toContain(SECRETS.root);
    await owner.keyboard.press('ArrowDown');
    await owner.keyboard.press('Enter');
    await expect.poll(() => menu.count(), POLL).toBe(1);
    await expect.poll(() => owner.evaluate(() => document.activeElement?.getAttribute('role')), POLL).toBe('menuitem');
    await owner.keyboard.press('Escape');
    await expect.poll(() => menu.count(), POLL).toBe(0);
    await expect
      .poll(() => owner.evaluate(() => document.activeElement?.getAttribute('data-testid')), POLL)
      .toBe('message');
    await owner.keyboard.press('r');
    await expect.poll(() => owner.getByTestId('reply-bar').textContent(), POLL).toContain(OWNER.displayName);
    await composer(owner).press('Escape');
  });

  it('shows a pin in the other person’s pins panel', async () => {
    // The owner moderates the community, so may pin (P on a focused message).
    await messageWith(owner, SECRETS.pinned).focus();
    await owner.keyboard.press('p');
    await expect.poll(() => messageWith(member, SECRETS.pinned).getByTestId('pinned-mark').count(), POLL).toBe(1);
    await member.getByTestId('pins-button').click();
    const pins = member.getByTestId('pins-panel');
    await expect.poll(() => pins.getByTestId('pinned-message').count(), POLL).toBe(1);
    expect(await pins.getByTestId('pinned-message').textContent()).toContain(SECRETS.pinned);
    expect(await pins.getByTestId('pinned-message').textContent()).toContain(OWNER.displayName);
    // Alan heard the pin happen, so the panel says who pinned it.
    expect(await pins.getByTestId('pinned-by').textContent()).toContain(`Pinned by ${OWNER.displayName}`);
    // A member is not offered pinning: no Unpin button, and no Pin in the menu.
    expect(await pins.getByRole('button', { name: /^Unpin/ }).count()).toBe(0);
    await shoot(member, 'pins-panel', BOTH);
    await pins.getByRole('button', { name: /^Show the message/ }).click();
    await expect
      .poll(() => member.evaluate(() => document.activeElement?.textContent ?? ''), POLL)
      .toContain(SECRETS.pinned);
    await pins.getByRole('button', { name: 'Close pinned messages' }).click();
    await expect.poll(() => pins.count(), POLL).toBe(0);
    expect(await member.getByTestId('pins-button').getAttribute('aria-pressed')).toBe('false');
    await messageWith(member, SECRETS.pinned).click({ button: 'right' });
    await expect.poll(() => member.getByTestId('message-menu').count(), POLL).toBe(1);
    expect(await member.getByTestId('message-menu').locator('[data-action="pin"]').count()).toBe(0);
    await member.keyboard.press('Escape');
  });

  it('forwards a message to a DM, re-encrypted there and marked forwarded', async () => {
    // Hedy opens a DM with Alan, then goes back to the channel.
    dmPath = await openDmWith(owner, MEMBER);
    await waitForChat(owner);
    await owner.goto(new URL(channelPath, server.url).toString());
    await waitForChat(owner);

    await send(owner, SECRETS.forwarded);
    await fromMenu(owner, messageWith(owner, SECRETS.forwarded), 'Forward');
    const dialog = owner.getByTestId('forward-dialog');
    await expect.poll(() => dialog.count(), POLL).toBe(1);
    await dialog.getByLabel('Forward to').fill('Alan');
    await expect.poll(() => dialog.getByTestId('forward-target').count(), POLL).toBe(1);
    await dialog.getByTestId('forward-target').click();
    await dialog.getByLabel(/^Note/).fill(SECRETS.note);
    await shoot(owner, 'forward-dialog', BOTH);
    await dialog.getByRole('button', { name: `Forward to ${MEMBER.displayName}` }).click();
    await expect.poll(() => dialog.count(), POLL).toBe(0);

    await member.goto(new URL(dmPath, server.url).toString());
    await waitForChat(member);
    const forwarded = messageWith(member, SECRETS.forwarded);
    await expect.poll(() => forwarded.count(), POLL).toBe(1);
    expect(await forwarded.getAttribute('data-status')).toBe('ok');
    expect(await forwarded.getByTestId('forwarded').textContent()).toContain('Forwarded');
    const note = messageWith(member, SECRETS.note);
    expect(await note.count()).toBe(1);
    expect(await note.getByTestId('forwarded').count()).toBe(0);
  });

  it('keeps the edit history of a message on the device that saw each version', async () => {
    await owner.goto(new URL(dmPath, server.url).toString());
    await waitForChat(owner);
    await send(owner, SECRETS.draft);
    await composer(owner).click();
    await owner.keyboard.press('ArrowUp');
    const editor = owner.getByLabel('Edit message');
    await expect.poll(() => editor.count(), POLL).toBe(1);
    await editor.fill(SECRETS.edited);
    await owner.keyboard.press('Enter');
    await expect.poll(() => messageWith(owner, SECRETS.edited).getByTestId('edited').count(), POLL).toBe(1);
    await fromMenu(owner, messageWith(owner, SECRETS.edited), 'View edit history');
    const history = owner.getByTestId('versions-dialog');
    await expect.poll(() => history.getByTestId('message-version').count(), POLL).toBe(2);
    const versions = await history.getByTestId('message-version').allTextContents();
    expect(versions[0]).toContain(SECRETS.edited);
    expect(versions[1]).toContain(SECRETS.draft);
    await history.getByRole('button', { name: 'Close', exact: true }).last().click();
  });

  it('shows “Seen by” once the other person has read the message', async () => {
    await expect.poll(() => messageWith(member, SECRETS.edited).count(), POLL).toBe(1);
    await send(owner, SECRETS.seen);
    // Alan is at the bottom of the DM: the message counts as read there, and Hedy hears of it.
    await expect.poll(() => messageWith(member, SECRETS.seen).count(), POLL).toBe(1);
    const seen = messageWith(owner, SECRETS.seen).getByTestId('seen-by');
    await expect.poll(() => seen.count(), POLL).toBe(1);
    expect(await seen.getAttribute('aria-label')).toBe(`Seen by ${MEMBER.displayName}`);
    // Only under the last message Alan read, and never on Alan's side for himself.
    expect(await owner.getByTestId('seen-by').count()).toBe(1);
    expect(await member.getByTestId('seen-by').count()).toBe(0);
    await shoot(owner, 'seen-by', BOTH);
  });

  it('still says who pinned a message and who has seen one after a reload', async () => {
    // Alan loads the channel afresh: he hears no pin happen now, the list says who pinned.
    await member.goto(new URL(channelPath, server.url).toString());
    await waitForChat(member);
    await member.getByTestId('pins-button').click();
    const pins = member.getByTestId('pins-panel');
    await expect.poll(() => pins.getByTestId('pinned-message').count(), POLL).toBe(1);
    expect(await pins.getByTestId('pinned-by').textContent()).toContain(`Pinned by ${OWNER.displayName}`);
    await shoot(member, 'pins-panel-reloaded', BOTH);
    await pins.getByRole('button', { name: 'Close pinned messages' }).click();

    // Hedy reloads the DM while Alan is elsewhere: no read event comes, the stored position does.
    await owner.reload();
    await waitForChat(owner);
    const seen = messageWith(owner, SECRETS.seen).getByTestId('seen-by');
    await expect.poll(() => seen.count(), POLL).toBe(1);
    expect(await seen.getAttribute('aria-label')).toBe(`Seen by ${MEMBER.displayName}`);
    expect(await owner.getByTestId('seen-by').count()).toBe(1);
  });

  it('never lets a text reach the server’s files, and logged no browser errors', async () => {
    const found = await findInFiles(dataDir, [...Object.values(SECRETS), 'Piano rolls packed']);
    expect(found.hits).toEqual([]);
    expect(ownerProblems).toEqual([]);
    expect(memberProblems).toEqual([]);
  });
});

import path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../apps/server/test/start-process.js';
import { BOTH, HAVE_CHROMIUM, POLL, openSeat, shoot } from './browser.js';
import { composer as box, waitForChat } from './chat.js';
import { ADA, GRACE } from './people.js';
import { meetInGeneral } from './places.js';
import { closeStage, openStage } from './stage.js';

/**
 * The composer, with two people against a real server (the real entry point, SQLite): Ada
 * creates a community and Grace joins it. In #general Ada completes an emoji shortcode from the
 * popup and types another in full, mentions Grace from the `@` popup, sends /shrug and /me (read as
 * "* Ada Lovelace waves…") from the command popup, makes a selection bold with Ctrl+B and a spoiler with the toolbar, picks
 * an emoji from the picker, and edits her last message with ↑. Grace reads each message as it was meant. The popups are
 * photographed at desktop and phone size, and at phone size they must fit on the screen.
 */

const COMMUNITY = 'Composers Guild';

const popup = (page: Page) => page.getByTestId('composer-suggestions');

/** The text of the last message on screen (the rendered Markdown, as its HTML). */
function lastMessage(page: Page): Locator {
  return page.getByTestId('message').last().getByTestId('message-text');
}

/** Waits until the last message on `page` has `html` inside it. */
async function expectLastHtml(page: Page, html: string) {
  await expect.poll(() => lastMessage(page).innerHTML(), POLL).toContain(html);
}

async function typeSlowly(page: Page, text: string) {
  await box(page).pressSequentially(text, { delay: 15 });
}

/** Enter, then waits until nothing is pending. */
async function sendNow(page: Page) {
  await page.keyboard.press('Enter');
  await expect.poll(() => box(page).inputValue(), POLL).toBe('');
  await expect.poll(() => page.getByTestId('pending-message').count(), POLL).toBe(0);
}

/** The popup is open, the text box says so, and its active row is a real option. */
async function expectPopupOpen(page: Page, label: string) {
  await expect.poll(() => popup(page).count(), POLL).toBe(1);
  expect(await box(page).getAttribute('aria-expanded')).toBe('true');
  const listbox = popup(page).getByRole('listbox', { name: label });
  expect(await listbox.count()).toBe(1);
  expect(await box(page).getAttribute('aria-controls')).toBe(await listbox.getAttribute('id'));
  const activeId = await box(page).getAttribute('aria-activedescendant');
  const active = page.locator(`[id="${activeId}"]`);
  expect(await active.getAttribute('role')).toBe('option');
  expect(await active.getAttribute('aria-selected')).toBe('true');
}

/** Screenshots at both sizes; at phone size the popup must be on screen and above the box. */
async function shootPopup(page: Page, name: string) {
  await shoot(page, `composer-${name}`, BOTH, {
    check: async (size, label) => {
      const rect = await popup(page).boundingBox();
      const input = await box(page).boundingBox();
      expect(rect, `${name} popup at ${label} size`).not.toBeNull();
      expect(rect!.x).toBeGreaterThanOrEqual(0);
      expect(rect!.y).toBeGreaterThanOrEqual(0);
      expect(rect!.x + rect!.width).toBeLessThanOrEqual(size.width);
      expect(rect!.y + rect!.height).toBeLessThanOrEqual(input!.y);
    },
  });
}

describe.skipIf(!HAVE_CHROMIUM)('the composer', () => {
  let server: RunningServer;
  let dataDir: string;
  let browser: Browser;
  let ada: Page;
  let grace: Page;
  const problems: string[][] = [];

  beforeAll(async () => {
    ({ server, browser, dataDir } = await openStage('composer'));
    ({ page: ada, problems: problems[0] } = await openSeat(browser));
    ({ page: grace, problems: problems[1] } = await openSeat(browser));
  });
  afterAll(() => closeStage({ server, browser }));

  it('brings Ada and Grace into #general', async () => {
    await meetInGeneral(server.url, COMMUNITY, [ada, ADA], [grace, GRACE]);
    // Ada's view learns of the new member (the @ popup lists the channel's members).
    await ada.reload();
    await waitForChat(ada);
  });

  it('completes :shortcodes: from the popup, and a shortcode typed in full', async () => {
    await box(ada).click();
    await typeSlowly(ada, 'Party time :tada');
    await expectPopupOpen(ada, 'Emoji');
    const first = popup(ada).getByRole('option').first();
    expect(await first.textContent()).toContain(':tada:');
    expect(await first.textContent()).toContain('🎉');
    await shootPopup(ada, 'emoji');

    // Escape closes it for this shortcode (typing on keeps it closed); the next one opens it.
    await ada.keyboard.press('Escape');
    await expect.poll(() => popup(ada).count(), POLL).toBe(0);
    expect(await box(ada).getAttribute('aria-expanded')).toBe('false');
    await typeSlowly(ada, 'a');
    expect(await popup(ada).count()).toBe(0);
    for (let i = 0; i < ':tadaa'.length; i++) await ada.keyboard.press('Backspace');
    expect(await box(ada).inputValue()).toBe('Party time ');
    await typeSlowly(ada, ':tada');
    await expectPopupOpen(ada, 'Emoji');

    await ada.keyboard.press('Enter'); // picks
    await expect.poll(() => box(ada).inputValue(), POLL).toBe('Party time 🎉 ');
    await typeSlowly(ada, 'and :smile:');
    await expect.poll(() => box(ada).inputValue(), POLL).toBe('Party time 🎉 and 😄');
    await sendNow(ada);
    await expect.poll(() => lastMessage(grace).textContent(), POLL).toBe('Party time 🎉 and 😄');
  });

  it('mentions Grace from the @ popup', async () => {
    await typeSlowly(ada, 'Thanks @gr');
    await expectPopupOpen(ada, 'People');
    const options = popup(ada).getByRole('option');
    expect(await options.first().textContent()).toContain('Grace Hopper');
    await shootPopup(ada, 'mention');
    await options.first().click();
    await expect.poll(() => box(ada).inputValue(), POLL).toBe('Thanks @grace ');
    // Still in the box: typing goes on.
    await typeSlowly(ada, 'for the compiler');
    await sendNow(ada);
    await expect.poll(() => lastMessage(grace).textContent(), POLL).toBe('Thanks @grace for the compiler');
    // The server cannot read the text: the mention travelled beside it, for Grace's mention count.
    const db = new Database(path.join(dataDir, 'chatalot.db'), { readonly: true });
    try {
      const graceId = (db.prepare('SELECT id FROM users WHERE username = ?').get('grace') as { id: string }).id;
      const rows = db.prepare('SELECT mentions, mention_everyone FROM messages ORDER BY seq').all();
      expect(rows.at(-1)).toEqual({ mentions: JSON.stringify([graceId]), mention_everyone: 0 });
      expect(rows.at(-2)).toEqual({ mentions: '[]', mention_everyone: 0 });
    } finally {
      db.close();
    }

    // @everyone and friends are offered in a channel.
    await typeSlowly(ada, '@');
    await expectPopupOpen(ada, 'People');
    const words = await popup(ada).getByRole('option').allTextContents();
    expect(words.some((w) => w.includes('@everyone'))).toBe(true);
    expect(words.some((w) => w.includes('@here'))).toBe(true);
    await box(ada).fill('');
  });

  it('lists the slash commands and sends /shrug and /me', async () => {
    await typeSlowly(ada, '/');
    await expectPopupOpen(ada, 'Commands');
    const names = await popup(ada).getByRole('option').allTextContents();
    expect(names.map((n) => /\/[a-z]+/.exec(n)?.[0])).toEqual(['/shrug', '/tableflip', '/unflip', '/lenny', '/me']);
    expect(names.join(' ')).not.toMatch(/poll|giphy/);
    await shootPopup(ada, 'commands');
    // ↓ moves the active row, and aria-activedescendant follows.
    await ada.keyboard.press('ArrowDown');
    const activeId = await box(ada).getAttribute('aria-activedescendant');
    expect(await ada.locator(`[id="${activeId}"]`).textContent()).toContain('/tableflip');

    await typeSlowly(ada, 'shrug');
    await sendNow(ada); // "/shrug" typed in full: Enter sends it.
    await expect.poll(() => lastMessage(grace).textContent(), POLL).toBe('¯\\_(ツ)_/¯');

    await typeSlowly(ada, '/me');
    await ada.keyboard.press('Tab');
    await expect.poll(() => box(ada).inputValue(), POLL).toBe('/me ');
    await typeSlowly(ada, 'waves at Grace');
    await sendNow(ada);
    // An action: "* Ada Lovelace waves at Grace", in italics, for both of them.
    for (const page of [grace, ada]) {
      await expect.poll(() => lastMessage(page).textContent(), POLL).toBe(`* ${ADA.displayName} waves at Grace`);
      expect(await lastMessage(page).evaluate((el) => getComputedStyle(el).fontStyle)).toBe('italic');
    }
  });

  it('formats the selection with Ctrl+B and with the toolbar, which stays shown after a reload', async () => {
    await typeSlowly(ada, 'make this bold');
    for (let i = 0; i < 4; i++) await ada.keyboard.press('Shift+ArrowLeft');
    await ada.keyboard.press('Control+b');
    await expect.poll(() => box(ada).inputValue(), POLL).toBe('make this **bold**');
    await sendNow(ada);
    await expectLastHtml(grace, 'make this <strong>bold</strong>');

    expect(await ada.getByTestId('format-toolbar').count()).toBe(0);
    await ada.getByRole('button', { name: 'Formatting toolbar' }).click();
    const toolbar = ada.getByRole('toolbar', { name: 'Formatting' });
    await expect.poll(() => toolbar.count(), POLL).toBe(1);
    expect(await ada.getByRole('button', { name: 'Formatting toolbar' }).getAttribute('aria-pressed')).toBe('true');
    await box(ada).click();
    await typeSlowly(ada, 'a secret plan');
    for (let i = 0; i < 4; i++) await ada.keyboard.press('Shift+ArrowLeft');
    await toolbar.getByRole('button', { name: 'Spoiler' }).click();
    await expect.poll(() => box(ada).inputValue(), POLL).toBe('a secret ||plan||');
    await shoot(ada, 'composer-toolbar', BOTH);
    await box(ada).focus();
    await sendNow(ada);
    await expectLastHtml(grace, '<span class="md-spoiler">plan</span>');

    await ada.reload();
    await waitForChat(ada);
    expect(await ada.getByRole('toolbar', { name: 'Formatting' }).count()).toBe(1);
  });

  it('inserts an emoji from the picker, found by search, with the keyboard', async () => {
    await box(ada).click();
    await typeSlowly(ada, 'Picked ');
    await ada.getByRole('button', { name: 'Emoji', exact: true }).click();
    const picker = ada.getByRole('dialog', { name: 'Emoji picker' });
    await expect.poll(() => picker.getByRole('option').count(), POLL).toBeGreaterThan(1000);
    expect(await ada.getByRole('button', { name: 'Emoji', exact: true }).getAttribute('aria-expanded')).toBe('true');
    // The search box has the focus, and the arrows move through the grid.
    const search = picker.getByLabel('Search emoji');
    await expect.poll(() => search.evaluate((el) => el === document.activeElement), POLL).toBe(true);
    await ada.keyboard.press('ArrowRight');
    const activeId = await search.getAttribute('aria-activedescendant');
    expect(await ada.locator(`[id="${activeId}"]`).getAttribute('aria-selected')).toBe('true');
    await shoot(ada, 'composer-picker', BOTH, {
      check: async (size) => {
        const rect = (await picker.boundingBox())!;
        expect(rect.x).toBeGreaterThanOrEqual(0);
        expect(rect.y).toBeGreaterThanOrEqual(0);
        expect(rect.x + rect.width).toBeLessThanOrEqual(size.width);
      },
    });
    await search.pressSequentially('party popper', { delay: 10 });
    await expect.poll(() => picker.getByRole('option').first().getAttribute('aria-label'), POLL).toBe('party popper');
    await ada.keyboard.press('Enter');
    await expect.poll(() => picker.count(), POLL).toBe(0);
    await expect.poll(() => box(ada).inputValue(), POLL).toBe('Picked 🎉');
    await expect.poll(() => box(ada).evaluate((el) => el === document.activeElement), POLL).toBe(true);
    await sendNow(ada);
    await expect.poll(() => lastMessage(grace).textContent(), POLL).toBe('Picked 🎉');

    // Escape closes it and gives the focus back to the message box.
    await ada.getByRole('button', { name: 'Emoji', exact: true }).click();
    await expect.poll(() => picker.count(), POLL).toBe(1);
    await ada.keyboard.press('Escape');
    await expect.poll(() => picker.count(), POLL).toBe(0);
    await expect.poll(() => box(ada).evaluate((el) => el === document.activeElement), POLL).toBe(true);
  });

  it('edits the last message with ↑ in the empty box', async () => {
    await box(ada).click();
    await ada.keyboard.press('ArrowUp');
    const editor = ada.getByLabel('Edit message');
    await expect.poll(() => editor.count(), POLL).toBe(1);
    expect(await editor.inputValue()).toBe('Picked 🎉');
    await editor.fill('Picked 🎉 (revised)');
    await ada.keyboard.press('Enter');
    await expect.poll(() => lastMessage(grace).textContent(), POLL).toContain('(revised)');
  });

  it('logged no errors in the browsers', () => {
    expect(problems).toEqual([[], []]);
  });
});

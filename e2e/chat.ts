import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { POLL } from './browser.js';

/** The chat view in the browser tests: its composer, its messages, sending and reading. */

/** The conversation's own composer (a thread panel has another). */
export function composer(page: Page): Locator {
  return page.getByTestId('chat-view').getByTestId('composer-input');
}

/** Waits for encryption (the composer shows once it is ready) and the first page of history. */
export async function waitForChat(page: Page) {
  await expect.poll(() => composer(page).count(), POLL).toBe(1);
  await expect.poll(() => page.getByTestId('message-list').count(), POLL).toBe(1);
}

/** The message whose decrypted text contains `text`, in `within` (the conversation's message list by default). */
export function messageWith(page: Page, text: string, within: Locator = page.getByTestId('message-list')): Locator {
  return within.getByTestId('message').filter({ has: page.getByTestId('message-text').getByText(text) });
}

export interface SendOptions {
  /** The composer to write in (the conversation's own by default; a thread panel has another). */
  box?: Locator;
  /** Where the sent message shows (the conversation's message list by default). */
  within?: Locator;
  /** Puts the text into the box at once instead of typing it key by key, so no `:`, `@` or `/` popup opens. */
  paste?: boolean;
  /** Text the sent message shows, where it differs from the first line written (rendered Markdown). */
  shows?: string;
}

/**
 * Writes `text` (Shift+Enter between lines when typing), sends it with Enter and waits until the
 * message shows and nothing is pending any more.
 */
export async function send(page: Page, text: string, { box = composer(page), within, paste, shows }: SendOptions = {}) {
  await box.click();
  const lines = text.split('\n');
  if (paste) {
    await box.fill(text);
  } else {
    for (const [i, line] of lines.entries()) {
      if (i > 0) await page.keyboard.press('Shift+Enter');
      await box.pressSequentially(line, { delay: 5 });
    }
  }
  await page.keyboard.press('Enter');
  await expect.poll(() => messageWith(page, shows ?? lines[0]!, within).count(), POLL).toBe(1);
  await expect.poll(() => page.getByTestId('pending-message').count(), POLL).toBe(0);
}

/** Waits for the message, then checks it was decrypted: status ok and the green lock (or verified). */
export async function expectReadable(message: Locator) {
  await expect.poll(() => message.count(), POLL).toBe(1);
  expect(await message.getAttribute('data-status')).toBe('ok');
  expect(await message.getByTestId('message-lock').getAttribute('data-lock')).toMatch(/^(ok|verified)$/);
}

/** Opens a message's action toolbar (hover) and clicks one of its buttons. */
export async function act(message: Locator, action: string) {
  await message.hover();
  await message.getByRole('button', { name: action, exact: true }).click();
}

/** Each message on screen as [data-status, lock state]. */
export async function statuses(page: Page): Promise<(string | null | undefined)[][]> {
  return page
    .getByTestId('message')
    .evaluateAll((nodes) =>
      nodes.map((n) => [
        n.getAttribute('data-status'),
        n.querySelector('[data-testid="message-lock"]')?.getAttribute('data-lock'),
      ]),
    );
}

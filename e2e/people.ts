import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { SCREENSHOT_DIR } from './browser.js';

/**
 * What the browser tests with several people share: registering (with encryption set up in that
 * browser), creating a community, inviting and joining through the link, the chat basics and
 * screenshots. Each helper does what a person would do, through the page.
 */

export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 390, height: 844 };
export const BOTH = { desktop: DESKTOP, mobile: MOBILE };
export const POLL = { timeout: 20_000 };

export interface Person {
  username: string;
  displayName: string;
  password: string;
}

/** One person in their own browser context, with the console errors seen there. */
export interface Seat {
  page: Page;
  problems: string[];
}

/** Console errors other than the browser's note about non-2xx answers. */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  return problems;
}

export async function openSeat(browser: Browser): Promise<Seat> {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  return { page, problems: watchProblems(page) };
}

/** Screenshots the screen at each size, checking that nothing scrolls sideways. */
export async function shoot(page: Page, name: string, sizes: Record<string, { width: number; height: number }>) {
  const original = page.viewportSize() ?? DESKTOP;
  for (const [label, size] of Object.entries(sizes)) {
    await page.setViewportSize(size);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-${label}.png`) });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} scrolls sideways at ${label} size`).toBeLessThanOrEqual(0);
  }
  await page.setViewportSize(original);
}

/** Fills the registration form (already on screen) and confirms the recovery codes were saved. */
export async function register(page: Page, who: Person) {
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Display name').fill(who.displayName);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByLabel('Confirm password').fill(who.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect.poll(() => page.getByTestId('secret-codes').count(), POLL).toBe(1);
  await page.getByLabel('I saved it somewhere safe').check();
  await page.getByRole('button', { name: /^Continue/ }).click();
}

/** Registers on /register and creates a community; returns the path of its #general. */
export async function registerWithCommunity(page: Page, baseUrl: string, who: Person, community: string) {
  await page.goto(new URL('/register', baseUrl).toString());
  await register(page, who);
  await page.getByRole('button', { name: 'Create a community' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a community' });
  await expect.poll(() => dialog.count(), POLL).toBe(1);
  await dialog.getByLabel('Community name').fill(community);
  await page.getByRole('button', { name: 'Create community' }).click();
  await expect.poll(() => page.getByTestId('channel-name').textContent(), POLL).toBe('general');
  return new URL(page.url()).pathname;
}

/** The community's invite link, from the community menu's "Invite people". */
export async function inviteLinkOf(page: Page, community: string): Promise<string> {
  await page.getByRole('button', { name: `Community menu: ${community}` }).click();
  await page.getByRole('menuitem', { name: 'Invite people' }).click();
  const link = page.getByLabel('Invite link', { exact: true });
  await expect.poll(() => link.inputValue(), POLL).toMatch(/\/invite\/[A-Za-z0-9]{12}$/);
  const value = await link.inputValue();
  await page.getByRole('button', { name: 'Done' }).click();
  return value;
}

/** Opens the invite link signed out, registers through it and lands in #general. */
export async function joinThroughInvite(page: Page, link: string, who: Person, community: string, general: string) {
  await page.goto(link);
  await page.getByRole('link', { name: 'Create an account to join' }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Create your account' }).count(), POLL).toBe(1);
  await register(page, who);
  const welcome = page.getByRole('dialog', { name: `Welcome to ${community}!` });
  await expect.poll(() => welcome.count(), POLL).toBe(1);
  await page.getByRole('button', { name: "Let's go" }).click();
  await expect.poll(() => new URL(page.url()).pathname, POLL).toBe(general);
}

export function composer(page: Page): Locator {
  return page.getByTestId('composer-input');
}

/** Waits for encryption and the first page of history. */
export async function waitForChat(page: Page) {
  await expect.poll(() => composer(page).count(), POLL).toBe(1);
  await expect.poll(() => page.getByTestId('message-list').count(), POLL).toBe(1);
}

/** The message whose decrypted text contains `text`. */
export function messageWith(page: Page, text: string): Locator {
  return page
    .getByTestId('message')
    .filter({ has: page.getByTestId('message-text').getByText(text, { exact: false }) });
}

export async function send(page: Page, text: string) {
  await composer(page).click();
  await composer(page).pressSequentially(text, { delay: 5 });
  await page.keyboard.press('Enter');
  await expect.poll(() => messageWith(page, text).count(), POLL).toBe(1);
  await expect.poll(() => page.getByTestId('pending-message').count(), POLL).toBe(0);
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

import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { POLL } from './browser.js';

/**
 * The people of the browser tests and what they do with their accounts, through the page as a
 * person would: register (which sets up encryption in that browser), sign in, sign out.
 */

export interface Person {
  username: string;
  displayName: string;
  password: string;
}

export const ADA: Person = { username: 'ada', displayName: 'Ada Lovelace', password: 'analytical engine 1843' };
export const GRACE: Person = { username: 'grace', displayName: 'Grace Hopper', password: 'compiler cobol 1959' };
export const HEDY: Person = { username: 'hedy', displayName: 'Hedy Lamarr', password: 'frequency hopping 1942' };

/** Fills the registration form (already on screen) and confirms the recovery code was saved. */
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

/** Opens /register and registers `who` there. */
export async function registerAt(page: Page, baseUrl: string, who: Person) {
  await page.goto(new URL('/register', baseUrl).toString());
  await register(page, who);
}

/** Fills the sign-in form (already on screen) and submits it; what follows is up to the test. */
export async function submitSignIn(page: Page, who: Pick<Person, 'username' | 'password'>) {
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Signs in on /login and waits for the home screen. */
export async function signIn(page: Page, baseUrl: string, who: Pick<Person, 'username' | 'password'>) {
  await page.goto(new URL('/login', baseUrl).toString());
  await submitSignIn(page, who);
  await expect.poll(() => new URL(page.url()).pathname, POLL).toBe('/');
}

/** Opens the account menu in the top bar. */
export async function openAccountMenu(page: Page, displayName: string) {
  const button = page.getByRole('button', { name: `Account menu for ${displayName}` });
  // A click that lands while the shell is still re-rendering (the signed-in app starting up)
  // can be lost: click again until the menu is there.
  await expect
    .poll(async () => {
      if ((await page.getByRole('menu').count()) === 0) await button.first().click();
      return page.getByRole('menu').count();
    }, POLL)
    .toBe(1);
}

/** Signs out from the account menu and waits for the sign-in page. */
export async function signOut(page: Page, displayName: string) {
  await openAccountMenu(page, displayName);
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await expect.poll(() => new URL(page.url()).pathname, POLL).toBe('/login');
}

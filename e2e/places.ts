import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { POLL } from './browser.js';
import { waitForChat } from './chat.js';
import { type Person, register, registerAt } from './people.js';

/**
 * The places of the browser tests, made and reached through the page: a community (which comes
 * with #general), its invite link, joining through it, the member list and DMs.
 */

/** From the empty home screen: creates a community and waits for its #general; returns that path. */
export async function createCommunity(page: Page, name: string, { description }: { description?: string } = {}) {
  await page.getByRole('button', { name: 'Create a community' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a community' });
  await expect.poll(() => dialog.count(), POLL).toBe(1);
  await dialog.getByLabel('Community name').fill(name);
  if (description !== undefined) await dialog.getByLabel('Description').fill(description);
  await page.getByRole('button', { name: 'Create community' }).click();
  await expect.poll(() => page.getByTestId('channel-name').textContent(), POLL).toBe('general');
  return new URL(page.url()).pathname;
}

/** Registers on /register and creates a community; returns the path of its #general. */
export async function registerWithCommunity(page: Page, baseUrl: string, who: Person, community: string) {
  await registerAt(page, baseUrl, who);
  return createCommunity(page, community);
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

/** Opens the invite link signed out, registers through it and lands in #general (at `general`). */
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

/**
 * The first person registers and creates `community`; each of the others registers through its
 * invite link. All end up in #general with encryption ready; returns the path of #general.
 */
export async function meetInGeneral(
  baseUrl: string,
  community: string,
  [ownerPage, owner]: [Page, Person],
  ...others: [Page, Person][]
) {
  const general = await registerWithCommunity(ownerPage, baseUrl, owner, community);
  await waitForChat(ownerPage);
  const link = await inviteLinkOf(ownerPage, community);
  for (const [page, who] of others) {
    await joinThroughInvite(page, link, who, community, general);
    await waitForChat(page);
  }
  return general;
}

/** Someone's row in the member list. */
export function memberRow(page: Page, username: string): Locator {
  return page.locator(`#member-list [data-member="${username}"]`);
}

/** Opens `who`'s card from the member list and starts a DM with them; returns the DM's path. */
export async function openDmWith(page: Page, who: Person) {
  await memberRow(page, who.username).click();
  const card = page.getByRole('dialog', { name: who.displayName });
  await expect.poll(() => card.count(), POLL).toBe(1);
  await card.getByRole('button', { name: 'Send a message' }).click();
  await expect.poll(() => new URL(page.url()).pathname, POLL).toMatch(/^\/dm\//);
  return new URL(page.url()).pathname;
}

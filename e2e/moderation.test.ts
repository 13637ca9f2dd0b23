import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../apps/server/test/start-process.js';
import { BOTH, DESKTOP, HAVE_CHROMIUM, POLL, type Seat, openSeat, shoot } from './browser.js';
import { ADA as OWNER, GRACE as MEMBER, HEDY as THIRD } from './people.js';
import { inviteLinkOf, joinThroughInvite, memberRow, registerWithCommunity } from './places.js';
import { closeStage, openStage } from './stage.js';

/**
 * Moderation and group settings in the web app, with three people in three browser contexts
 * against a real server: the owner renames the #general group and changes its channel's topic
 * from the sidebar's gear, and the others see it; a member sets her own nickname and the owner
 * makes her a moderator from her card; the owner kicks the third person (their view loses the
 * community), bans the member with a reason (her view loses it, her invite is refused), finds the
 * ban in the community settings' ban list and lifts it, and she joins again; last, the owner
 * hands the community to her.
 */

const COMMUNITY = 'Analytical Society';
const NICKNAME = 'Amazing Grace';
const REASON = 'Posted the engine plans outside the society';

function groupsNav(page: Page) {
  return page.getByRole('navigation', { name: 'Groups and channels' });
}

/** The card of a member, opened from the member list (found by test id: its title follows a nickname change). */
async function openCard(page: Page, username: string, title: string) {
  await memberRow(page, username).click();
  await expect.poll(() => page.getByRole('dialog', { name: title }).count(), POLL).toBe(1);
  return page.getByTestId('member-dialog');
}

/** The communities in the rail on the left. */
function railCommunities(page: Page) {
  return page.getByRole('list', { name: 'Your communities' }).locator('[data-community]');
}

describe.skipIf(!HAVE_CHROMIUM)('moderation and group settings in the web app', () => {
  let server: RunningServer;
  let browser: Browser;
  let owner: Seat;
  let member: Seat;
  let third: Seat;
  let general = '';
  let invite = '';

  beforeAll(async () => {
    ({ server, browser } = await openStage('moderation'));
    owner = await openSeat(browser);
    member = await openSeat(browser);
    third = await openSeat(browser);
  });
  afterAll(() => closeStage({ server, browser }));

  it('brings three people into one community', async () => {
    general = await registerWithCommunity(owner.page, server.url, OWNER, COMMUNITY);
    invite = await inviteLinkOf(owner.page, COMMUNITY);
    await joinThroughInvite(member.page, invite, MEMBER, COMMUNITY, general);
    await joinThroughInvite(third.page, invite, THIRD, COMMUNITY, general);
    await expect.poll(() => owner.page.locator('#member-list [data-member]').count(), POLL).toBe(3);
  });

  it('changes a group and a channel from the sidebar’s gear, and the other members see it', async () => {
    const { page } = owner;
    // Members get the gear for the group (its members, leaving) but not for channels.
    expect(await groupsNav(member.page).getByRole('link', { name: 'Settings of the group General' }).count()).toBe(1);
    expect(await groupsNav(member.page).getByTestId('channel-settings-link').count()).toBe(0);

    await groupsNav(page).getByRole('button', { name: 'General', exact: true }).hover();
    await groupsNav(page).getByRole('link', { name: 'Settings of the group General' }).click();
    const settings = page.getByTestId('group-settings');
    await expect.poll(() => settings.count(), POLL).toBe(1);
    await expect.poll(() => settings.locator('[data-group-member]').count(), POLL).toBe(3);
    await settings.getByLabel('Group name').fill('Lounge');
    await settings.getByLabel('Description').fill('Where the society meets');
    await settings.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => settings.getByText('Saved.').count(), POLL).toBe(1);
    await shoot(page, 'group-settings', BOTH);
    for (const other of [member.page, third.page]) {
      await expect.poll(() => groupsNav(other).getByRole('list', { name: 'Channels in Lounge' }).count(), POLL).toBe(1);
    }

    await settings.getByRole('link', { name: 'Settings of #general' }).click();
    const channel = page.getByTestId('channel-settings');
    await expect.poll(() => channel.count(), POLL).toBe(1);
    await channel.getByLabel('Topic').fill('Say hello and read the rules');
    await channel.getByLabel('Slow mode').selectOption('30');
    await channel.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => channel.getByText('Saved.').count(), POLL).toBe(1);
    await shoot(page, 'channel-settings', { desktop: DESKTOP });
    await expect.poll(() => member.page.getByText('Say hello and read the rules').count(), POLL).toBeGreaterThan(0);
    await page.goto(new URL(general, server.url).toString());
  });

  it('lets a member set her nickname and the owner make her a moderator', async () => {
    const own = await openCard(member.page, MEMBER.username, MEMBER.displayName);
    // Her own card offers her nickname, and nothing that acts on others.
    expect(await own.getByRole('button', { name: 'Kick' }).count()).toBe(0);
    await own.getByLabel('Your nickname here').fill(NICKNAME);
    await own.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => own.getByText('Nickname saved.').count(), POLL).toBe(1);
    await own.getByRole('button', { name: 'Close', exact: true }).last().click();

    const row = memberRow(owner.page, MEMBER.username);
    await expect.poll(() => row.textContent(), POLL).toContain(NICKNAME);
    const card = await openCard(owner.page, MEMBER.username, NICKNAME);
    await card.getByLabel('Role').selectOption('moderator');
    await card.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => card.getByText(`${NICKNAME} is now a moderator.`).count(), POLL).toBe(1);
    await shoot(owner.page, 'member-dialog', BOTH);
    await card.getByRole('button', { name: 'Close', exact: true }).last().click();
    const self = memberRow(member.page, MEMBER.username);
    await expect.poll(() => self.getAttribute('aria-label'), POLL).toContain('moderator');
  });

  it('kicks the third person after a confirmation: their view loses the community', async () => {
    expect(await railCommunities(third.page).count()).toBe(1);
    const card = await openCard(owner.page, THIRD.username, THIRD.displayName);
    await card.getByRole('button', { name: 'Kick' }).click();
    await expect.poll(() => card.getByRole('group', { name: 'Confirm the kick' }).count(), POLL).toBe(1);
    await card.getByRole('button', { name: `Kick ${THIRD.displayName}` }).click();
    await expect
      .poll(() => owner.page.getByText(`${THIRD.displayName} was kicked from ${COMMUNITY}.`).count(), POLL)
      .toBe(1);
    await expect.poll(() => railCommunities(third.page).count(), POLL).toBe(0);
    await expect.poll(() => third.page.getByText(`You were removed from ${COMMUNITY}.`).count(), POLL).toBe(1);
    await expect.poll(() => memberRow(owner.page, THIRD.username).count(), POLL).toBe(0);
  });

  it('bans the member with a reason, lists the ban, lifts it, and she can join again', async () => {
    const card = await openCard(owner.page, MEMBER.username, NICKNAME);
    await card.getByRole('button', { name: 'Ban' }).click();
    await card.getByLabel(`Reason for banning ${NICKNAME}`).fill(REASON);
    await card.getByRole('button', { name: `Ban ${NICKNAME}` }).click();
    await expect.poll(() => railCommunities(member.page).count(), POLL).toBe(0);
    await expect.poll(() => member.page.getByText(`You were banned from ${COMMUNITY}.`).count(), POLL).toBe(1);

    // The invite no longer lets her in.
    await member.page.goto(invite);
    await member.page.getByRole('button', { name: 'Accept invite' }).click();
    await expect.poll(() => member.page.getByText('You are banned from this community.').count(), POLL).toBe(1);

    await owner.page.getByRole('button', { name: `Community menu: ${COMMUNITY}` }).click();
    await owner.page.getByRole('menuitem', { name: 'Community settings' }).click();
    const ban = owner.page.locator(`[data-testid="ban-list"] [data-ban="${MEMBER.username}"]`);
    await expect.poll(() => ban.count(), POLL).toBe(1);
    expect(await ban.textContent()).toContain(REASON);
    expect(await ban.textContent()).toContain('by you');
    await ban.scrollIntoViewIfNeeded();
    await shoot(owner.page, 'ban-list', BOTH);
    await ban.getByRole('button', { name: `Unban ${MEMBER.displayName}` }).click();
    await ban.getByRole('button', { name: 'Lift the ban' }).click();
    await expect.poll(() => ban.count(), POLL).toBe(0);
    await expect.poll(() => owner.page.getByText('Nobody is banned.').count(), POLL).toBe(1);

    await member.page.goto(invite);
    await member.page.getByRole('button', { name: 'Accept invite' }).click();
    await expect.poll(() => railCommunities(member.page).count(), POLL).toBe(1);
  });

  it('hands the community to the member, after a confirmation', async () => {
    await owner.page.goto(new URL(general, server.url).toString());
    await expect.poll(() => memberRow(owner.page, MEMBER.username).count(), POLL).toBe(1);
    // She came back as a new member: her nickname went with her old membership.
    const card = await openCard(owner.page, MEMBER.username, MEMBER.displayName);
    await card.getByRole('button', { name: 'Make owner' }).click();
    await card.getByRole('button', { name: `Make ${MEMBER.displayName} the owner` }).click();
    await expect
      .poll(() => card.getByText(`${MEMBER.displayName} now owns ${COMMUNITY}; you are an admin.`).count(), POLL)
      .toBe(1);
    // Nothing is left that an admin may do to the owner.
    await expect.poll(() => card.getByRole('button', { name: 'Kick' }).count(), POLL).toBe(0);
    await member.page.goto(new URL(general, server.url).toString());
    const self = memberRow(member.page, MEMBER.username);
    await expect.poll(() => self.getAttribute('aria-label'), POLL).toContain('owner');
  });

  it('logged no errors in the browsers', () => {
    expect({ owner: owner.problems, member: member.problems, third: third.problems }).toEqual({
      owner: [],
      member: [],
      third: [],
    });
  });
});

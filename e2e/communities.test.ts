import { AuthClient } from '@chatalot/client';
import { ChannelList, CommunityMemberList, GroupList } from '@chatalot/protocol';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../apps/server/test/start-process.js';
import { BOTH, DESKTOP, HAVE_CHROMIUM, MOBILE, POLL, openSeat, shoot } from './browser.js';
import { ADA as OWNER, GRACE as MEMBER, register, registerAt } from './people.js';
import { createCommunity, memberRow, openDmWith } from './places.js';
import { closeStage, openStage } from './stage.js';

/**
 * Communities in the web app, with two people in two browser contexts against a real server
 * (the real entry point, SQLite): the owner registers, creates a community and an invite; the
 * second person opens /invite/CODE, registers through it and lands in the community; both see
 * #general and each other online in the member list (and offline once the other leaves); a group
 * and a channel the owner creates appear live for the second person; a DM started from the member
 * list shows up in the other person's DM list; the sidebar hides behind a menu button on a phone;
 * the dark theme and an accent colour stick across a reload; unread and mention counts follow
 * the gateway. Screenshots at desktop and phone size land in test-results/screenshots.
 *
 * Registration is open on this instance (REGISTRATION_MODE=open): a community invite lets people
 * join a community, while an invite-only instance would also ask them for a registration code.
 */

const NARROWEST = { width: 360, height: 740 };
const COMMUNITY = 'Analytical Society';
const WELCOME = 'Welcome aboard! Say hello in #general.';

/** The presence shown for someone in the member list. */
function presenceIn(page: Page, username: string) {
  return memberRow(page, username).getAttribute('data-presence', { timeout: 2_000 });
}

function sidebarChannel(page: Page, name: string, group = 'General') {
  return page
    .getByRole('navigation', { name: 'Groups and channels' })
    .getByRole('list', { name: `Channels in ${group}` })
    .locator(`a[data-channel="${name}"]`);
}

describe.skipIf(!HAVE_CHROMIUM)('communities in the web app', () => {
  let server: RunningServer;
  let browser: Browser;
  let memberContext: BrowserContext;
  let owner: Page;
  let member: Page;
  let ownerProblems: string[];
  let memberProblems: string[];
  let inviteLink = '';
  let communityPath = '';

  beforeAll(async () => {
    ({ server, browser } = await openStage('communities'));
    ({ page: owner, problems: ownerProblems } = await openSeat(browser, { clipboardFor: server.url }));
  });
  afterAll(() => closeStage({ server, browser }));

  it('shows a new account the empty state: create a community or join one', async () => {
    await registerAt(owner, server.url, OWNER);
    await expect.poll(() => owner.getByRole('heading', { name: 'Create your first community' }).count(), POLL).toBe(1);
    expect(new URL(owner.url()).pathname).toBe('/');
    expect(await owner.getByText(`You are signed in as ${OWNER.displayName}.`).count()).toBe(1);
    expect(await owner.getByRole('button', { name: 'Create a community' }).count()).toBe(1);
    expect(await owner.getByLabel('Invite link or code').count()).toBe(1);
    // The DM list's own empty state.
    expect(await owner.getByText('No conversations yet').count()).toBe(1);
    await shoot(owner, 'communities-empty', BOTH);
  });

  it('creates a community that opens on #general, and sets its welcome message', async () => {
    communityPath = await createCommunity(owner, COMMUNITY, { description: 'Friends of the engine.' });
    expect(communityPath).toMatch(/^\/c\/[^/]+\/[^/]+$/);
    expect(await sidebarChannel(owner, 'general').getAttribute('aria-current')).toBe('page');
    expect(await owner.getByTestId('e2e-badge').first().textContent()).toContain('End-to-end encrypted');
    // The rail lists the community, marked current.
    expect(await owner.getByRole('link', { name: COMMUNITY, exact: true }).getAttribute('aria-current')).toBe('page');

    await owner.getByRole('button', { name: `Community menu: ${COMMUNITY}` }).click();
    await owner.getByRole('menuitem', { name: 'Community settings' }).click();
    await expect.poll(() => owner.getByRole('heading', { name: 'Overview' }).count(), POLL).toBe(1);
    await owner.getByLabel('Welcome message').fill(WELCOME);
    await owner.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => owner.getByText('Saved.').count(), POLL).toBe(1);
    await owner.getByRole('heading', { name: 'Settings', level: 2 }).scrollIntoViewIfNeeded();
    await shoot(owner, 'communities-settings', BOTH);
    await owner
      .getByRole('link', { name: `Back to ${COMMUNITY}` })
      .first()
      .click();
    await expect.poll(() => new URL(owner.url()).pathname, POLL).toBe(communityPath);
  });

  it('makes an invite link in the invite dialog and copies it', async () => {
    await owner.getByRole('button', { name: `Community menu: ${COMMUNITY}` }).click();
    await shoot(owner, 'communities-community-menu', { desktop: DESKTOP });
    await owner.getByRole('menuitem', { name: 'Invite people' }).click();
    const link = owner.getByLabel('Invite link', { exact: true });
    await expect.poll(() => link.inputValue(), POLL).toMatch(/\/invite\/[A-Za-z0-9]{12}$/);
    inviteLink = await link.inputValue();
    expect(inviteLink.startsWith(server.url.replace(/\/$/, ''))).toBe(true);
    await owner.getByRole('button', { name: 'Copy the invite link' }).click();
    await expect.poll(() => owner.evaluate(() => navigator.clipboard.readText()), POLL).toBe(inviteLink);
    await expect.poll(() => owner.getByText('Expires in 7 days', { exact: false }).count(), POLL).toBe(1);
    await shoot(owner, 'communities-invite-dialog', BOTH);
    await owner.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => owner.getByTestId('invite-dialog').count(), POLL).toBe(0);
  });

  it('lets a second person open /invite/CODE, register through it and land in the community', async () => {
    ({ context: memberContext, page: member, problems: memberProblems } = await openSeat(browser));
    await member.goto(inviteLink);
    await expect.poll(() => member.getByRole('heading', { name: COMMUNITY }).count(), POLL).toBe(1);
    expect(await member.getByText('You are invited to join').count()).toBe(1);
    await shoot(member, 'communities-invite-page', BOTH);

    await member.getByRole('link', { name: 'Create an account to join' }).click();
    await expect.poll(() => member.getByRole('heading', { name: 'Create your account' }).count(), POLL).toBe(1);
    await register(member, MEMBER);

    // Back on the invite, accepted, in the community: the welcome message greets them.
    const welcome = member.getByRole('dialog', { name: `Welcome to ${COMMUNITY}!` });
    await expect.poll(() => welcome.count(), POLL).toBe(1);
    expect(await welcome.getByTestId('welcome-message').textContent()).toContain(WELCOME);
    await shoot(member, 'communities-welcome', { desktop: DESKTOP });
    await member.getByRole('button', { name: "Let's go" }).click();
    await expect.poll(() => member.getByTestId('channel-name').textContent(), POLL).toBe('general');
    expect(new URL(member.url()).pathname).toBe(communityPath);
  });

  it('shows both people #general and each other online in the member list', async () => {
    for (const page of [owner, member]) {
      await expect.poll(() => sidebarChannel(page, 'general').count(), POLL).toBe(1);
    }
    await expect.poll(() => presenceIn(owner, MEMBER.username).catch(() => null), POLL).toBe('online');
    await expect.poll(() => presenceIn(member, OWNER.username).catch(() => null), POLL).toBe('online');
    await expect.poll(() => presenceIn(owner, OWNER.username).catch(() => null), POLL).toBe('online');
    const gracesEntry = memberRow(owner, MEMBER.username);
    expect(await gracesEntry.getAttribute('aria-label')).toBe(`${MEMBER.displayName}, online`);
    expect(await memberRow(owner, OWNER.username).getAttribute('aria-label')).toBe(
      `${OWNER.displayName} (you), online, owner`,
    );
    await shoot(owner, 'communities-channel', { desktop: DESKTOP, mobile: MOBILE, narrowest: NARROWEST });

    // The member list: a column on wide screens, a drawer behind the members button on phones.
    await shoot(owner, 'communities-member-list', { desktop: DESKTOP });
    await owner.setViewportSize(MOBILE);
    await owner.getByRole('button', { name: 'Show the member list' }).click();
    await expect.poll(() => owner.locator('#member-list').isVisible(), POLL).toBe(true);
    await shoot(owner, 'communities-member-list', { mobile: MOBILE });
    await owner.keyboard.press('Escape');
    await expect.poll(() => owner.locator('#member-list').isVisible(), POLL).toBe(false);
    await owner.setViewportSize(DESKTOP);
  });

  it('shows a group and a channel the owner creates to the second person live', async () => {
    await owner.getByRole('button', { name: `Community menu: ${COMMUNITY}` }).click();
    await owner.getByRole('menuitem', { name: 'Create a group' }).click();
    const groupDialog = owner.getByRole('dialog', { name: 'Create a group' });
    await expect.poll(() => groupDialog.count(), POLL).toBe(1);
    await groupDialog.getByLabel('Group name').fill('Engines');
    await owner.getByRole('button', { name: 'Create group' }).click();
    await expect.poll(() => owner.getByRole('list', { name: 'Channels in Engines' }).count(), POLL).toBe(1);

    // Live for the second person: the group appears without a reload.
    await expect.poll(() => member.getByRole('list', { name: 'Channels in Engines' }).count(), POLL).toBe(1);

    await owner.getByRole('button', { name: 'Create a channel in Engines' }).click();
    const channelDialog = owner.getByRole('dialog', { name: 'Create a channel' });
    await expect.poll(() => channelDialog.count(), POLL).toBe(1);
    await shoot(owner, 'communities-create-channel', BOTH);
    await channelDialog.getByLabel('Channel name').fill('blueprints');
    await channelDialog.getByLabel('Topic').fill('Plans for the difference engine');
    await owner.getByRole('button', { name: 'Create channel' }).click();
    await expect.poll(() => owner.getByTestId('channel-name').textContent(), POLL).toBe('blueprints');
    expect(await owner.getByText('Plans for the difference engine').first().isVisible()).toBe(true);

    const engines = member.getByRole('list', { name: 'Channels in Engines' });
    await expect.poll(() => engines.locator('a[data-channel="blueprints"]').count(), POLL).toBe(1);
    await shoot(member, 'communities-live-channel', { desktop: DESKTOP });
  });

  it('hides the sidebar behind a menu button on a phone, and works from the keyboard', async () => {
    await member.setViewportSize(MOBILE);
    const general = sidebarChannel(member, 'general');
    await expect.poll(() => general.isVisible(), POLL).toBe(false);
    const menuButton = member.getByRole('button', { name: 'Open navigation' });
    await menuButton.click();
    await expect.poll(() => general.isVisible(), POLL).toBe(true);
    await shoot(member, 'communities-mobile-menu', { mobile: MOBILE, narrowest: NARROWEST });
    await member.keyboard.press('Escape');
    await expect.poll(() => general.isVisible(), POLL).toBe(false);
    // Focus goes back to the menu button, with a visible outline.
    await expect.poll(() => menuButton.evaluate((el) => el === document.activeElement), POLL).toBe(true);

    // Keyboard: open the drawer with Enter, follow a channel link with Enter.
    await member.keyboard.press('Enter');
    await expect.poll(() => general.isVisible(), POLL).toBe(true);
    await sidebarChannel(member, 'blueprints', 'Engines').focus();
    const outline = await member.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    await member.keyboard.press('Enter');
    await expect.poll(() => member.getByTestId('channel-name').textContent(), POLL).toBe('blueprints');
    await expect.poll(() => general.isVisible(), POLL).toBe(false);
    await member.setViewportSize(DESKTOP);
  });

  it('starts a DM from the member list, which appears in the other person’s DM list', async () => {
    await openDmWith(member, OWNER);
    await expect.poll(() => member.getByRole('heading', { name: OWNER.displayName, level: 1 }).count(), POLL).toBe(1);

    await owner.getByRole('link', { name: /^Home: direct messages/ }).click();
    await expect.poll(() => owner.getByRole('link', { name: /^Grace Hopper, online/ }).count(), POLL).toBe(1);
    await shoot(owner, 'communities-home-dms', BOTH);

    // "New message" finds people by name among those who share a community.
    await owner.getByRole('button', { name: 'New message', exact: true }).click();
    const dialog = owner.getByRole('dialog', { name: 'New message' });
    await dialog.getByLabel('Find people').fill('gra');
    await expect.poll(() => dialog.getByRole('button', { name: /Grace Hopper/ }).count(), POLL).toBe(1);
    await dialog.getByRole('button', { name: /Grace Hopper/ }).click();
    expect(await dialog.getByRole('button', { name: 'Remove Grace Hopper' }).count()).toBe(1);
    await shoot(owner, 'communities-new-dm', BOTH);
    await owner.getByRole('button', { name: 'Start conversation' }).click();
    await expect.poll(() => owner.getByRole('heading', { name: MEMBER.displayName, level: 1 }).count(), POLL).toBe(1);
  });

  it('switches to the dark theme and another accent colour, kept across a reload', async () => {
    await owner.goto(new URL('/settings', server.url).toString());
    await expect.poll(() => owner.getByRole('heading', { name: 'Appearance' }).count(), POLL).toBe(1);
    // The radio is visually hidden behind its swatch: choose it as a person does, by the label.
    await owner.locator('label', { has: owner.getByLabel('Violet accent') }).click();
    await owner.locator('#appearance').getByRole('radio', { name: /^Dark/ }).check();
    expect(await owner.evaluate(() => document.documentElement.dataset.accent)).toBe('violet');
    expect(await owner.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await owner.locator('#appearance').scrollIntoViewIfNeeded();
    await shoot(owner, 'communities-appearance', { desktop: DESKTOP });

    await owner.goto(new URL(communityPath, server.url).toString());
    await expect.poll(() => owner.getByTestId('channel-name').textContent(), POLL).toBe('general');
    expect(await owner.evaluate(() => document.documentElement.dataset.accent)).toBe('violet');
    await shoot(owner, 'communities-channel-dark', BOTH);

    // Back to the system theme and the default accent for the rest.
    await owner.goto(new URL('/settings', server.url).toString());
    await owner.locator('label', { has: owner.getByLabel('Teal accent') }).click();
    await owner
      .locator('#appearance')
      .getByRole('radio', { name: /^System/ })
      .check();
    expect(await owner.evaluate(() => document.documentElement.dataset.accent)).toBeUndefined();
  });

  it('shows the second person offline once they close the page', async () => {
    await owner.goto(new URL(communityPath, server.url).toString());
    await expect.poll(() => presenceIn(owner, MEMBER.username).catch(() => null), POLL).toBe('online');
    expect(memberProblems).toEqual([]);
    await memberContext.close();
    await expect.poll(() => presenceIn(owner, MEMBER.username).catch(() => null), POLL).toBe('offline');
    expect(ownerProblems).toEqual([]);
  });

  it('counts unread messages and mentions live, and clears them when the channel opens', async () => {
    // The second person posts from another client (the server only ever sees ciphertext; these
    // bodies are opaque bytes): one plain message, and one that mentions the owner.
    const api = new AuthClient({ baseUrl: server.url.replace(/\/$/, '') });
    await api.login({ username: MEMBER.username, password: MEMBER.password });
    const communityId = communityPath.split('/')[2]!;
    const groups = await api.authed(`/api/communities/${communityId}/groups`, { response: GroupList });
    const engines = groups.groups.find((g) => g.name === 'Engines')!;
    const channels = await api.authed(`/api/groups/${engines.id}/channels`, { response: ChannelList });
    const blueprints = channels.channels.find((c) => c.name === 'blueprints')!;
    const members = await api.authed(`/api/communities/${communityId}/members`, { response: CommunityMemberList });
    const ownerId = members.members.find((m) => m.username === OWNER.username)!.user_id;
    for (const n of [1, 2]) {
      await api.authed(`/api/channels/${blueprints.id}/messages`, {
        method: 'POST',
        body: {
          nonce: `unread-test-${n}`,
          ciphertext: Buffer.from(`opaque bytes ${n}`).toString('base64'),
          encryption: { scheme: 'sender_key', distribution_id: 'unread-test' },
          ...(n === 2 ? { mentions: [ownerId] } : {}),
        },
      });
    }

    const link = sidebarChannel(owner, 'blueprints', 'Engines');
    await expect.poll(() => link.getAttribute('aria-label'), POLL).toBe('blueprints, 1 mention');
    expect(await owner.getByRole('link', { name: `${COMMUNITY}, 1 mention`, exact: true }).count()).toBe(1);
    await shoot(owner, 'communities-unread', { desktop: DESKTOP });

    await link.click();
    await expect.poll(() => link.getAttribute('aria-label'), POLL).toBe('blueprints');
    await expect.poll(() => owner.getByRole('link', { name: COMMUNITY, exact: true }).count(), POLL).toBe(1);
    await api.logout();
  });
});

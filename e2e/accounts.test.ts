import { readFileSync } from 'node:fs';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../apps/server/test/start-process.js';
import { BOTH, DESKTOP, HAVE_CHROMIUM, MOBILE, POLL, openSeat, shoot as shootAt } from './browser.js';
import { ADA as OWNER, GRACE as MEMBER, openAccountMenu, signOut, submitSignIn } from './people.js';
import { closeStage, openStage } from './stage.js';

/** Screenshots the whole page at desktop and phone size, checking the phone layout never scrolls sideways. */
function shoot(page: Page, name: string) {
  return shootAt(page, name, BOTH, { fullPage: true });
}

/** The current TOTP code for `secret`, `offsetSteps` time steps ahead. */
function totp(secret: string, offsetSteps = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + offsetSteps * 30_000 });
}

/** Waits for the recovery code, checks the download, ticks "I saved it" and continues. */
async function confirmRecoveryCode(page: Page, screenshot?: string): Promise<string> {
  const codes = page.getByTestId('secret-codes');
  await expect.poll(() => codes.count(), POLL).toBe(1);
  const code = (await codes.innerText()).trim();
  expect(code).toMatch(/^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$/);
  if (screenshot) await shoot(page, screenshot);

  const continueButton = page.getByRole('button', { name: /^Continue|^Sign in with the new password/ });
  expect(await continueButton.isDisabled()).toBe(true);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download .txt' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('chatalot-recovery-code.txt');
  expect(readFileSync((await download.path())!, 'utf8')).toContain(code);

  await page.getByLabel('I saved it somewhere safe').check();
  expect(await continueButton.isDisabled()).toBe(false);
  await continueButton.click();
  return code;
}

describe.skipIf(!HAVE_CHROMIUM)('accounts in the web app', () => {
  let server: RunningServer;
  let browser: Browser;
  let owner: Page;
  let ownerProblems: string[];
  let inviteLink = '';

  beforeAll(async () => {
    // The instance's default registration mode: the first account owns it, others need an invite.
    ({ server, browser } = await openStage('accounts', {}));
    // 401s are expected here: the browser's own notes about non-2xx answers are not counted as problems.
    ({ page: owner, problems: ownerProblems } = await openSeat(browser, {
      acceptDownloads: true,
      clipboardFor: server.url,
    }));
  });
  afterAll(() => closeStage({ server, browser }));

  it('sends a signed-out visitor of /settings to sign in', async () => {
    const page = await browser.newPage({ viewport: DESKTOP });
    await page.goto(new URL('/settings', server.url).toString());
    await expect.poll(() => page.url(), POLL).toContain('/login?next=%2Fsettings');
    await expect.poll(() => page.getByRole('heading', { name: 'Welcome back' }).count(), POLL).toBe(1);
    await shoot(page, 'login');
    await page.goto(new URL('/recover', server.url).toString());
    await expect.poll(() => page.getByRole('heading', { name: 'Recover your account' }).count(), POLL).toBe(1);
    await shoot(page, 'recover');
    await page.close();
  });

  it('lets the first person register (owner), confirm the recovery code and land signed in', async () => {
    await owner.goto(new URL('/', server.url).toString());
    await expect.poll(() => owner.getByRole('link', { name: 'Create account' }).count(), POLL).toBe(2);
    await shoot(owner, 'home-signed-out');
    await owner.getByRole('main').getByRole('link', { name: 'Create account' }).click();
    await expect.poll(() => owner.getByRole('heading', { name: 'Create your account' }).count(), POLL).toBe(1);

    // Client-side checks first: a mismatched confirmation is reported next to the field.
    await owner.getByLabel('Username').fill(OWNER.username);
    await owner.getByLabel('Display name').fill(OWNER.displayName);
    await owner.getByLabel('Password', { exact: true }).fill(OWNER.password);
    await owner.getByLabel('Confirm password').fill('something else');
    await owner.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => owner.getByText('The two passwords are not the same.').count(), POLL).toBe(1);
    await shoot(owner, 'register-errors');

    await owner.getByLabel('Confirm password').fill(OWNER.password);
    await shoot(owner, 'register');
    await owner.getByRole('button', { name: 'Create account' }).click();
    await confirmRecoveryCode(owner, 'register-recovery-code');

    await expect.poll(() => owner.getByText(`You are signed in as ${OWNER.displayName}.`).count(), POLL).toBe(1);
    expect(new URL(owner.url()).pathname).toBe('/');
    await shoot(owner, 'home-signed-in');
  });

  it('creates an invite on /admin/invites', async () => {
    await openAccountMenu(owner, OWNER.displayName);
    await shoot(owner, 'user-menu');
    await owner.getByRole('menuitem', { name: 'Invites' }).click();
    await expect.poll(() => owner.getByRole('heading', { name: 'Invites', level: 1 }).count(), POLL).toBe(1);
    await expect.poll(() => owner.getByText('No invites yet', { exact: false }).count(), POLL).toBe(1);

    await owner.getByLabel('Maximum uses').fill('5');
    await owner.getByRole('button', { name: 'Create invite' }).click();
    const link = owner.getByLabel('Invite link', { exact: true });
    await expect.poll(() => link.count(), POLL).toBe(1);
    inviteLink = await link.inputValue();
    expect(inviteLink).toMatch(new RegExp(`^${server.url.replace(/\/$/, '')}/register\\?invite=[A-Za-z0-9]{12}$`));
    await owner.getByRole('button', { name: /^Copy the invite link/ }).click();
    await expect.poll(() => owner.evaluate(() => navigator.clipboard.readText()), POLL).toBe(inviteLink);
    await expect.poll(() => owner.getByText('0 of 5').count(), POLL).toBe(1);
    await shoot(owner, 'admin-invites');
  });

  it('lets a second person register through the invite link, sign out and sign back in', async () => {
    const { context, page, problems } = await openSeat(browser, { viewport: MOBILE, acceptDownloads: true });
    await page.goto(inviteLink);
    await expect.poll(() => page.getByLabel('Invite code').count(), POLL).toBe(1);
    expect(await page.getByLabel('Invite code').inputValue()).toBe(new URL(inviteLink).searchParams.get('invite'));

    await page.getByLabel('Username').fill(MEMBER.username);
    await page.getByLabel('Display name').fill(MEMBER.displayName);
    // The server refuses a common password; the message appears next to the password field.
    await page.getByLabel('Password', { exact: true }).fill('password123');
    await page.getByLabel('Confirm password').fill('password123');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByText(/among the most common/).count(), POLL).toBe(1);
    expect(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await shoot(page, 'register-invite-weak-password');

    await page.getByLabel('Password', { exact: true }).fill(MEMBER.password);
    await page.getByLabel('Confirm password').fill(MEMBER.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await confirmRecoveryCode(page);
    await expect.poll(() => page.getByText(`You are signed in as ${MEMBER.displayName}.`).count(), POLL).toBe(1);
    // Not an admin: no invite link in the menu.
    await openAccountMenu(page, MEMBER.displayName);
    expect(await page.getByRole('menuitem', { name: 'Invites' }).count()).toBe(0);
    await page.keyboard.press('Escape');

    await signOut(page, MEMBER.displayName);
    await submitSignIn(page, { username: MEMBER.username, password: 'not the password' });
    await expect.poll(() => page.getByText('Wrong username or password.').count(), POLL).toBe(1);
    await shoot(page, 'login-error');
    await submitSignIn(page, MEMBER);
    await expect.poll(() => page.getByText(`You are signed in as ${MEMBER.displayName}.`).count(), POLL).toBe(1);

    // The session survives a reload (restored from the stored refresh token).
    await page.reload();
    await expect.poll(() => page.getByText(`You are signed in as ${MEMBER.displayName}.`).count(), POLL).toBe(1);
    expect(problems).toEqual([]);
    await context.close();

    // The invite counts the use.
    await owner.reload();
    await expect.poll(() => owner.getByText('1 of 5').count(), POLL).toBe(1);
  });

  it('lets the owner turn on two-factor in settings, then sign in with a code', async () => {
    await openAccountMenu(owner, OWNER.displayName);
    await owner.getByRole('menuitem', { name: 'Settings' }).click();
    await expect.poll(() => owner.getByRole('heading', { name: 'Settings', level: 1 }).count(), POLL).toBe(1);
    await expect.poll(() => owner.getByText('This device').count(), POLL).toBe(1);
    await shoot(owner, 'settings');

    await owner.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    const secretBox = owner.getByTestId('totp-secret');
    await expect.poll(() => secretBox.count(), POLL).toBe(1);
    expect(await owner.getByRole('img', { name: /QR code/ }).count()).toBe(1);
    const secret = (await secretBox.innerText()).replace(/\s+/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await shoot(owner, 'settings-2fa-setup');

    await owner.getByLabel('6-digit code').fill(totp(secret));
    await owner.getByRole('button', { name: 'Turn on' }).click();
    const backup = owner.getByRole('list', { name: 'Backup codes' }).getByRole('listitem');
    await expect.poll(() => backup.count(), POLL).toBe(8);
    expect(await backup.first().innerText()).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    await shoot(owner, 'settings-2fa-backup-codes');
    await owner.getByLabel('I saved it somewhere safe').check();
    await owner.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => owner.getByRole('button', { name: 'Replace backup codes' }).count(), POLL).toBe(1);

    await signOut(owner, OWNER.displayName);
    await submitSignIn(owner, OWNER);
    const codeField = owner.getByLabel('Two-factor code');
    await expect.poll(() => codeField.count(), POLL).toBe(1);
    await shoot(owner, 'login-totp');
    // The code used to turn 2FA on cannot be replayed: use the next time step's code.
    await codeField.fill(totp(secret, 1));
    await owner.getByRole('button', { name: 'Verify and sign in' }).click();
    await expect.poll(() => owner.getByText(`You are signed in as ${OWNER.displayName}.`).count(), POLL).toBe(1);

    await owner.goto(new URL('/settings', server.url).toString());
    await expect.poll(() => owner.getByText('This device').count(), POLL).toBe(1);
    expect(ownerProblems).toEqual([]);
  });
});

import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../apps/server/test/start-process.js';
import { HAVE_CHROMIUM, SCREENSHOT_DIR, launchChromium } from './browser.js';

/**
 * Markdown in the chat view, against a real server: two people in #general exchange messages with
 * bold, inline code, a link, a fenced TypeScript block, a quote, lists and a spoiler; both see them
 * rendered (the sender's own copy and the receiver's decrypted one), HTML in a message stays text,
 * hostile input renders nothing executable, and a code block's copy button copies its source.
 * Screenshots (light and dark, desktop and phone) land in test-results/screenshots.
 */

const DESKTOP = { width: 1280, height: 800 };
const MOBILE = { width: 390, height: 844 };
const POLL = { timeout: 20_000 };

const OWNER = { username: 'linus', displayName: 'Linus Reviewer', password: 'patches welcome 1991' };
const MEMBER = { username: 'margaret', displayName: 'Margaret Hamilton', password: 'apollo guidance 1969' };
const COMMUNITY = 'Code Review Club';

const NOTES =
  'Deploy notes: **bold move**, run `npm run build` and read the [docs](https://example.org/docs)\n<b>raw html</b> stays text';
const CODE = 'export function add(a: number, b: number): number {\n  return a + b; // the sum\n}';
const FIX = `Here is the fix:\n\`\`\`ts\n${CODE}\n\`\`\``;
const REPLY =
  '> Here is the fix\n\nLooks good! A few notes:\n- _tested_ in **Chromium**\n- ~~flaky~~ stable now\n\n||the release is on Friday||';
const HOSTILE = 'Hostile: <img src=x onerror=alert(1)> [click](javascript:alert(1)) <script>alert(2)</script>';

function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return problems;
}

async function register(page: Page, who: typeof OWNER) {
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Display name').fill(who.displayName);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByLabel('Confirm password').fill(who.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect.poll(() => page.getByTestId('secret-codes').count(), POLL).toBe(1);
  await page.getByLabel('I saved it somewhere safe').check();
  await page.getByRole('button', { name: /^Continue/ }).click();
}

function composer(page: Page): Locator {
  return page.getByTestId('composer-input');
}

async function waitForChat(page: Page) {
  await expect.poll(() => composer(page).count(), POLL).toBe(1);
  await expect.poll(() => page.getByTestId('message-list').count(), POLL).toBe(1);
}

/** Sends `text` (newlines included) and waits until it is delivered. */
async function send(page: Page, text: string) {
  const before = await page.getByTestId('message').count();
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await expect.poll(() => page.getByTestId('message').count(), POLL).toBe(before + 1);
  await expect.poll(() => page.getByTestId('pending-message').count(), POLL).toBe(0);
}

/** The message whose rendered text contains `text`. */
function messageWith(page: Page, text: string): Locator {
  return page
    .getByTestId('message')
    .filter({ has: page.getByTestId('message-text').getByText(text, { exact: false }) });
}

async function shoot(page: Page, name: string) {
  for (const [label, size] of Object.entries({ desktop: DESKTOP, mobile: MOBILE })) {
    await page.setViewportSize(size);
    await page.getByTestId('message-scroller').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-${label}.png`) });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} scrolls sideways at ${label} size`).toBeLessThanOrEqual(0);
  }
  await page.setViewportSize(DESKTOP);
}

describe.skipIf(!HAVE_CHROMIUM)('Markdown in the chat view', () => {
  let server: RunningServer;
  let browser: Browser;
  let ownerContext: BrowserContext;
  let memberContext: BrowserContext;
  let owner: Page;
  let member: Page;
  let ownerProblems: string[];
  let memberProblems: string[];

  beforeAll(async () => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const dataDir = mkdtempSync(path.join(tmpdir(), 'chatalot-e2e-markdown-'));
    server = await startServer({ DATA_DIR: dataDir, REGISTRATION_MODE: 'open' });
    browser = await launchChromium();
    ownerContext = await browser.newContext({ viewport: DESKTOP });
    memberContext = await browser.newContext({ viewport: DESKTOP });
    await memberContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    owner = await ownerContext.newPage();
    member = await memberContext.newPage();
    ownerProblems = watchProblems(owner);
    memberProblems = watchProblems(member);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('sets up two people in #general', async () => {
    await owner.goto(new URL('/register', server.url).toString());
    await register(owner, OWNER);
    await owner.getByRole('button', { name: 'Create a community' }).click();
    const dialog = owner.getByRole('dialog', { name: 'Create a community' });
    await expect.poll(() => dialog.count(), POLL).toBe(1);
    await dialog.getByLabel('Community name').fill(COMMUNITY);
    await owner.getByRole('button', { name: 'Create community' }).click();
    await expect.poll(() => owner.getByTestId('channel-name').textContent(), POLL).toBe('general');
    await waitForChat(owner);

    await owner.getByRole('button', { name: `Community menu: ${COMMUNITY}` }).click();
    await owner.getByRole('menuitem', { name: 'Invite people' }).click();
    const link = owner.getByLabel('Invite link', { exact: true });
    await expect.poll(() => link.inputValue(), POLL).toMatch(/\/invite\/[A-Za-z0-9]{12}$/);
    const inviteLink = await link.inputValue();
    await owner.getByRole('button', { name: 'Done' }).click();

    await member.goto(inviteLink);
    await member.getByRole('link', { name: 'Create an account to join' }).click();
    await register(member, MEMBER);
    await member.getByRole('button', { name: "Let's go" }).click();
    await waitForChat(member);
  });

  it('renders bold, inline code and links, and keeps HTML as text', async () => {
    await send(owner, NOTES);
    for (const page of [owner, member]) {
      const notes = messageWith(page, 'Deploy notes');
      await expect.poll(() => notes.count(), POLL).toBe(1);
      const text = notes.getByTestId('message-text');
      expect(await text.locator('strong').textContent()).toBe('bold move');
      expect(await text.locator('code').textContent()).toBe('npm run build');
      const docs = text.getByRole('link', { name: 'docs' });
      expect(await docs.getAttribute('href')).toBe('https://example.org/docs');
      expect(await docs.getAttribute('target')).toBe('_blank');
      expect(await docs.getAttribute('rel')).toBe('noopener noreferrer nofollow');
      expect(await text.locator('b').count()).toBe(0);
      expect(await text.innerText()).toContain('<b>raw html</b> stays text');
    }
  });

  it('highlights a fenced code block, whose copy button copies the code', async () => {
    await send(owner, FIX);
    const fix = messageWith(member, 'Here is the fix');
    await expect.poll(() => fix.count(), POLL).toBe(1);
    const code = fix.locator('pre > code.hljs.language-ts');
    expect(await code.count()).toBe(1);
    expect(await code.textContent()).toBe(CODE);
    expect(await code.locator('span.hljs-keyword').count()).toBeGreaterThanOrEqual(3);
    expect(await code.locator('span.hljs-comment').textContent()).toBe('// the sum');

    await fix.getByTestId('code-block').hover();
    const copy = fix.getByTestId('copy-code');
    await copy.click();
    await expect.poll(() => copy.textContent(), POLL).toBe('Copied');
    expect(await member.evaluate(() => navigator.clipboard.readText())).toBe(CODE);
  });

  it('renders quotes, lists and spoilers, and nothing executable from hostile input', async () => {
    await send(member, REPLY);
    const reply = messageWith(owner, 'Looks good!');
    await expect.poll(() => reply.count(), POLL).toBe(1);
    const text = reply.getByTestId('message-text');
    expect(await text.locator('blockquote').innerText()).toBe('Here is the fix');
    expect(await text.locator('ul > li').count()).toBe(2);
    expect(await text.locator('em').textContent()).toBe('tested');
    expect(await text.locator('del').textContent()).toBe('flaky');
    const spoiler = text.locator('.md-spoiler');
    expect(await spoiler.textContent()).toBe('the release is on Friday');
    expect(await spoiler.evaluate((el) => getComputedStyle(el).color)).toBe('rgba(0, 0, 0, 0)');
    await spoiler.click();
    await expect.poll(() => spoiler.getAttribute('class'), POLL).toContain('md-spoiler-shown');

    await send(owner, HOSTILE);
    const hostile = messageWith(member, 'Hostile:');
    await expect.poll(() => hostile.count(), POLL).toBe(1);
    const shown = hostile.getByTestId('message-text');
    expect(await shown.locator('img, script, a').count()).toBe(0);
    expect(await shown.innerText()).toBe('Hostile: <img src=x onerror=alert(1)> click <script>alert(2)</script>');
  });

  it('looks right in light and dark themes, at desktop and phone size', async () => {
    // Reveal the spoiler on one side only, so the screenshots show both states.
    await messageWith(owner, 'Here is the fix').getByTestId('code-block').hover();
    await shoot(owner, 'markdown-light');
    await member.emulateMedia({ colorScheme: 'dark' });
    await shoot(member, 'markdown-dark');
  });

  it('logged no errors in the browsers', () => {
    expect(ownerProblems).toEqual([]);
    expect(memberProblems).toEqual([]);
  });
});

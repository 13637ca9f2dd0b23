import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../apps/server/test/start-process.js';
import { BOTH, HAVE_CHROMIUM, POLL, openSeat, shoot } from './browser.js';
import { messageWith, send } from './chat.js';
import type { Person } from './people.js';
import { meetInGeneral } from './places.js';
import { closeStage, openStage } from './stage.js';

/**
 * Markdown in the chat view, against a real server: two people in #general exchange messages with
 * bold, inline code, a link, a fenced TypeScript block, a quote, lists and a spoiler; both see them
 * rendered (the sender's own copy and the receiver's decrypted one), HTML in a message stays text,
 * hostile input renders nothing executable, and a code block's copy button copies its source.
 * Screenshots (light and dark, desktop and phone) land in test-results/screenshots.
 */

const OWNER: Person = { username: 'linus', displayName: 'Linus Reviewer', password: 'patches welcome 1991' };
const MEMBER: Person = { username: 'margaret', displayName: 'Margaret Hamilton', password: 'apollo guidance 1969' };
const COMMUNITY = 'Code Review Club';

const NOTES =
  'Deploy notes: **bold move**, run `npm run build` and read the [docs](https://example.org/docs)\n<b>raw html</b> stays text';
const CODE = 'export function add(a: number, b: number): number {\n  return a + b; // the sum\n}';
const FIX = `Here is the fix:\n\`\`\`ts\n${CODE}\n\`\`\``;
const REPLY =
  '> Here is the fix\n\nLooks good! A few notes:\n- _tested_ in **Chromium**\n- ~~flaky~~ stable now\n\n||the release is on Friday||';
const HOSTILE = 'Hostile: <img src=x onerror=alert(1)> [click](javascript:alert(1)) <script>alert(2)</script>';

/** Screenshots the conversation scrolled to its end, at desktop and phone size. */
function shootChat(page: Page, name: string) {
  return shoot(page, name, BOTH, {
    prepare: () => page.getByTestId('message-scroller').evaluate((el) => (el.scrollTop = el.scrollHeight)),
  });
}

describe.skipIf(!HAVE_CHROMIUM)('Markdown in the chat view', () => {
  let server: RunningServer;
  let browser: Browser;
  let owner: Page;
  let member: Page;
  let ownerProblems: string[];
  let memberProblems: string[];

  beforeAll(async () => {
    ({ server, browser } = await openStage('markdown'));
    ({ page: owner, problems: ownerProblems } = await openSeat(browser, { dialogs: true }));
    ({ page: member, problems: memberProblems } = await openSeat(browser, { dialogs: true, clipboardFor: server.url }));
  });
  afterAll(() => closeStage({ server, browser }));

  it('sets up two people in #general', async () => {
    await meetInGeneral(server.url, COMMUNITY, [owner, OWNER], [member, MEMBER]);
  });

  it('renders bold, inline code and links, and keeps HTML as text', async () => {
    await send(owner, NOTES, { paste: true, shows: 'Deploy notes' });
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
    await send(owner, FIX, { paste: true, shows: 'Here is the fix' });
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
    await send(member, REPLY, { paste: true, shows: 'Looks good!' });
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

    await send(owner, HOSTILE, { paste: true, shows: 'Hostile:' });
    const hostile = messageWith(member, 'Hostile:');
    await expect.poll(() => hostile.count(), POLL).toBe(1);
    const shown = hostile.getByTestId('message-text');
    expect(await shown.locator('img, script, a').count()).toBe(0);
    expect(await shown.innerText()).toBe('Hostile: <img src=x onerror=alert(1)> click <script>alert(2)</script>');
  });

  it('looks right in light and dark themes, at desktop and phone size', async () => {
    // Reveal the spoiler on one side only, so the screenshots show both states.
    await messageWith(owner, 'Here is the fix').getByTestId('code-block').hover();
    await shootChat(owner, 'markdown-light');
    await member.emulateMedia({ colorScheme: 'dark' });
    await shootChat(member, 'markdown-dark');
  });

  it('logged no errors in the browsers', () => {
    expect(ownerProblems).toEqual([]);
    expect(memberProblems).toEqual([]);
  });
});

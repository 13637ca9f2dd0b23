import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../apps/server/test/start-process.js';
import { BOTH, HAVE_CHROMIUM, POLL, openSeat, shoot } from './browser.js';
import { act, messageWith, send, waitForChat } from './chat.js';
import { ADA as OWNER, GRACE as MEMBER, signOut } from './people.js';
import { meetInGeneral } from './places.js';
import { closeStage, openStage } from './stage.js';

/**
 * Search over the local store of decrypted messages, in Chromium against a real server: Ada
 * creates a community, Grace joins through its invite, both write in #general. Ada opens the
 * search with Ctrl+F, finds messages by a word and by the start of a word (accents ignored),
 * narrows them to Grace's with the "From" filter, and opens a result: the channel opens with
 * the message marked. A deleted message is no longer found; after a reload the store (in
 * IndexedDB) still answers. Last, the store's IndexedDB database is read raw: none of the
 * texts is in it (its values are AES-GCM ciphertext under a non-extractable key), and signing
 * out deletes it.
 * Screenshots of the panel at desktop and phone size land in test-results/screenshots.
 */

const COMMUNITY = 'Analytical Society';

const TEXTS = {
  cafe: 'Lunch at the Café Lumière on Friday?',
  budgetAda: 'The quarterly budget draft is in the shared folder',
  budgetGrace: 'I reviewed the budget, two questions about travel costs',
  deleted: 'Budget meeting moved to Tuesday afternoon',
  other: 'The engine weaves algebraic patterns',
};

/** The texts of the results on screen. */
function resultTexts(page: Page): Promise<string[]> {
  return page.getByTestId('search-result-text').allInnerTexts();
}

/** Opens the search panel with Ctrl+F and types `text` (replacing what was there). */
async function searchFor(page: Page, text: string) {
  if ((await page.getByTestId('search-dialog').count()) === 0) {
    await page.keyboard.press('Control+f');
    await expect.poll(() => page.getByRole('dialog', { name: 'Search messages' }).count(), POLL).toBe(1);
  }
  await page.getByTestId('search-input').fill(text);
}

describe.skipIf(!HAVE_CHROMIUM)('search over the messages this browser decrypted', () => {
  let server: RunningServer;
  let browser: Browser;
  let owner: Page;
  let member: Page;
  let channelPath = '';
  let problems: string[];

  beforeAll(async () => {
    ({ server, browser } = await openStage('search'));
    ({ page: owner, problems } = await openSeat(browser));
    ({ page: member } = await openSeat(browser));
  });
  afterAll(() => closeStage({ server, browser }));

  it('records the messages of a conversation as they are decrypted', async () => {
    // Grace joins through an invite link.
    channelPath = await meetInGeneral(server.url, COMMUNITY, [owner, OWNER], [member, MEMBER]);

    for (const text of [TEXTS.other, TEXTS.cafe, TEXTS.budgetAda, TEXTS.deleted])
      await send(owner, text, { paste: true });
    await send(member, TEXTS.budgetGrace, { paste: true });
    await expect.poll(() => messageWith(owner, TEXTS.budgetGrace).count(), POLL).toBe(1);
  });

  it('finds messages by word and by prefix, ignoring accents, and narrows them with a filter', async () => {
    await owner.getByTestId('composer-input').click();
    await searchFor(owner, 'budget');
    await expect.poll(() => resultTexts(owner), POLL).toEqual([TEXTS.budgetGrace, TEXTS.deleted, TEXTS.budgetAda]);
    // The matched word is marked in each snippet; sender and channel are named.
    expect(await owner.getByTestId('search-results').locator('mark').allInnerTexts()).toEqual([
      'budget',
      'Budget',
      'budget',
    ]);
    expect(await owner.getByTestId('search-result-sender').first().textContent()).toBe(MEMBER.displayName);
    expect(await owner.getByTestId('search-result-place').first().textContent()).toBe('#general');
    expect(await owner.getByTestId('search-status').textContent()).toContain('3 messages found');
    // Search says what it covers.
    const scope = (await owner.getByTestId('search-scope').textContent())?.replace(/\s+/g, ' ');
    expect(scope).toContain('only through the messages this device has decrypted');

    await searchFor(owner, 'lumie');
    await expect.poll(() => resultTexts(owner), POLL).toEqual([TEXTS.cafe]);
    await searchFor(owner, 'cafe lumiere');
    await expect.poll(() => resultTexts(owner), POLL).toEqual([TEXTS.cafe]);
    await searchFor(owner, 'submarine');
    await expect.poll(() => owner.getByTestId('search-status').textContent(), POLL).toContain('No messages found');

    await searchFor(owner, 'budget');
    await expect.poll(() => resultTexts(owner), POLL).toHaveLength(3);
    await owner.getByTestId('search-filter-from').selectOption({ label: MEMBER.displayName });
    await expect.poll(() => resultTexts(owner), POLL).toEqual([TEXTS.budgetGrace]);
    await owner.getByTestId('search-filter-in').selectOption({ label: '#general' });
    await expect.poll(() => resultTexts(owner), POLL).toEqual([TEXTS.budgetGrace]);

    await shoot(owner, 'search', BOTH);
  });

  it('opens the channel of a result, from anywhere, with the message marked', async () => {
    await owner.keyboard.press('Escape');
    await expect.poll(() => owner.getByTestId('search-dialog').count(), POLL).toBe(0);
    await owner.goto(new URL('/', server.url).toString());
    await owner.getByTestId('search-button').click();
    await owner.getByTestId('search-input').fill('algebraic');
    await expect.poll(() => resultTexts(owner), POLL).toEqual([TEXTS.other]);
    // From the keyboard: ↓ to the result, Enter to open it.
    await owner.keyboard.press('ArrowDown');
    await owner.keyboard.press('Enter');
    await expect.poll(() => new URL(owner.url()).pathname, POLL).toBe(channelPath);
    await expect.poll(() => owner.getByTestId('search-dialog').count(), POLL).toBe(0);
    await expect.poll(() => messageWith(owner, TEXTS.other).getAttribute('data-search-hit'), POLL).toBe('true');
  });

  it('forgets a deleted message and still answers after a reload', async () => {
    await waitForChat(owner);
    await act(messageWith(owner, TEXTS.deleted), 'Delete');
    await owner.getByRole('dialog', { name: 'Delete this message?' }).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => messageWith(owner, TEXTS.deleted).count(), POLL).toBe(0);
    await searchFor(owner, 'tuesday');
    await expect.poll(() => owner.getByTestId('search-status').textContent(), POLL).toContain('No messages found');
    await owner.keyboard.press('Escape');

    // Grace's copy went too (the gateway's deletion event), and her store answers for her.
    await searchFor(member, 'budget');
    await expect.poll(() => resultTexts(member), POLL).toEqual([TEXTS.budgetGrace, TEXTS.budgetAda]);
    await member.keyboard.press('Escape');

    // A new page load: the store comes back from IndexedDB.
    await owner.goto(new URL('/', server.url).toString());
    await owner.getByTestId('search-button').click();
    await owner.getByTestId('search-input').fill('budg');
    await expect.poll(() => resultTexts(owner), POLL).toEqual([TEXTS.budgetGrace, TEXTS.budgetAda]);
    await owner.keyboard.press('Escape');
  });

  it('keeps the store encrypted at rest: the texts are nowhere in its IndexedDB database', async () => {
    await owner.goto(new URL(channelPath, server.url).toString());
    await waitForChat(owner);
    const raw = await owner.evaluate(async () => {
      const names = (await indexedDB.databases()).map((d) => d.name ?? '');
      const name = names.find((n) => n.startsWith('chatalot-messages-'));
      if (!name) return { names, values: [] as string[], keyExtractable: null as boolean | null };
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open(name);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const all = <T>(store: string) =>
        new Promise<T[]>((resolve, reject) => {
          const req = db.transaction(store, 'readonly').objectStore(store).getAll();
          req.onsuccess = () => resolve(req.result as T[]);
          req.onerror = () => reject(req.error);
        });
      const decoder = new TextDecoder();
      const values = (await all<Uint8Array>('kv')).map((v) => decoder.decode(v));
      const [key] = await all<CryptoKey>('meta');
      db.close();
      return { names, values, keyExtractable: key?.extractable ?? null };
    });
    expect(raw.names.some((n) => n.startsWith('chatalot-messages-'))).toBe(true);
    expect(raw.values.length).toBeGreaterThan(0);
    expect(raw.keyExtractable).toBe(false);
    const everything = raw.values.join('\n');
    for (const text of Object.values(TEXTS)) {
      for (const word of text.split(' ').filter((w) => w.length >= 6)) expect(everything).not.toContain(word);
    }
  });

  it('deletes the store from the browser on sign-out', async () => {
    const stores = () =>
      owner.evaluate(async () =>
        (await indexedDB.databases()).map((d) => d.name ?? '').filter((n) => n.startsWith('chatalot-messages-')),
      );
    expect(await stores()).toHaveLength(1);
    await signOut(owner, OWNER.displayName);
    await expect.poll(stores, POLL).toEqual([]);
    expect(problems).toEqual([]);
  });
});

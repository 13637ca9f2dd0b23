import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../apps/server/test/start-process.js';
import { BOTH, HAVE_CHROMIUM, POLL, type Seat, openSeat, shoot } from './browser.js';
import { messageWith, send, waitForChat } from './chat.js';
import { ADA, GRACE, signIn } from './people.js';
import { meetInGeneral, openDmWith } from './places.js';
import { closeStage, openStage } from './stage.js';

/**
 * Linking a second browser (PRODUCT.md §5 "Devices") and verifying a contact ("Trust"), in
 * three browser contexts against a real server: Ada registers in browser A and talks with
 * Grace; Ada signs in from browser B, which has no key: B shows a link code, Ada types it into
 * A's Settings → Devices and approves; B then opens the chat, reads what Grace sends next and
 * sends itself, while A keeps working. Last, the DM's "Verify security" shows the same 60 digits
 * to Ada and Grace, and "Mark as verified" survives a reload.
 */

const COMMUNITY = 'Analytical Society';

/** Screenshots one part of a long page at each size, scrolled into view after the resize. */
function shootPart(page: Page, testId: string, name: string) {
  return shoot(page, name, BOTH, { prepare: () => page.getByTestId(testId).first().scrollIntoViewIfNeeded() });
}

/** The safety number as the dialog reads it out (digits only). */
async function safetyNumberOf(page: Page): Promise<string> {
  const dialog = page.getByTestId('safety-number-dialog');
  await expect.poll(() => dialog.getByTestId('safety-number').count(), POLL).toBe(1);
  const label = (await dialog.getByTestId('safety-number').getAttribute('aria-label')) ?? '';
  return label.replace(/\D/g, '');
}

describe.skipIf(!HAVE_CHROMIUM)('linking a second browser, and verifying a contact', () => {
  let server: RunningServer;
  let browser: Browser;
  let adaA: Seat;
  let adaB: Seat;
  let grace: Seat;
  let general = '';
  let dmPath = '';

  beforeAll(async () => {
    ({ server, browser } = await openStage('linking'));
    adaA = await openSeat(browser);
    adaB = await openSeat(browser);
    grace = await openSeat(browser);
  });
  afterAll(() => closeStage({ server, browser }));

  it('lets Ada talk with Grace from her first browser', async () => {
    general = await meetInGeneral(server.url, COMMUNITY, [adaA.page, ADA], [grace.page, GRACE]);
    await send(adaA.page, 'Sent from the first browser');
    await expect.poll(() => messageWith(grace.page, 'Sent from the first browser').count(), POLL).toBe(1);

    // A DM between them, for the safety number later.
    dmPath = await openDmWith(adaA.page, GRACE);
    await waitForChat(adaA.page);
    await send(adaA.page, 'A direct hello');
  });

  it('links a second browser with the code it shows, approved in the first', async () => {
    await signIn(adaB.page, server.url, ADA);
    await adaB.page.goto(new URL(general, server.url).toString());
    await expect.poll(() => adaB.page.getByTestId('e2e-provisioning').count(), POLL).toBe(1);
    await adaB.page.getByTestId('link-start').click();
    const codeBox = adaB.page.getByTestId('link-code');
    await expect.poll(() => codeBox.count(), POLL).toBe(1);
    const code = (await codeBox.innerText()).trim();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$/);
    await shoot(adaB.page, 'linking-new-browser-code', BOTH);

    await adaA.page.goto(new URL('/settings#devices', server.url).toString());
    const input = adaA.page.getByTestId('link-code-input');
    await expect.poll(() => input.isEnabled(), POLL).toBe(true);
    // Typed as a person would: lower case, spaces instead of dashes.
    await input.fill(code.toLowerCase().replace(/-/g, ' '));
    await adaA.page.getByRole('button', { name: 'Continue' }).click();
    const confirm = adaA.page.getByTestId('link-confirm');
    await expect.poll(() => confirm.count(), POLL).toBe(1);
    expect(await confirm.innerText()).toContain('Chrome on Linux');
    await shootPart(adaA.page, 'approve-link', 'linking-approve');
    await adaA.page.getByTestId('link-approve').click();
    await expect.poll(() => adaA.page.getByText('is linked').count(), POLL).toBe(1);

    // B gets the key, registers itself and opens the chat.
    await waitForChat(adaB.page);
    await expect.poll(() => adaB.page.getByTestId('e2e-provisioning').count(), POLL).toBe(0);

    // Both browsers are listed by the name they gave themselves, B as active.
    await adaA.page.reload();
    const rows = adaA.page.getByTestId('device-row');
    await expect.poll(() => rows.count(), POLL).toBe(2);
    await expect.poll(() => rows.nth(0).innerText(), POLL).toContain('This browser');
    await expect.poll(() => rows.nth(1).innerText(), POLL).toContain('Chrome on Linux');
    expect(await rows.nth(1).innerText()).toContain('Last active');
    await shootPart(adaA.page, 'device-row', 'linking-devices');
  });

  it('lets the linked browser read new messages and send, while the first keeps working', async () => {
    await adaA.page.goto(new URL(general, server.url).toString());
    await waitForChat(adaA.page);
    await send(grace.page, 'Grace writes to both browsers');
    for (const page of [adaA.page, adaB.page]) {
      const message = messageWith(page, 'Grace writes to both browsers');
      await expect.poll(() => message.count(), POLL).toBe(1);
      await expect.poll(() => message.getAttribute('data-status'), POLL).toBe('ok');
    }
    await send(adaB.page, 'Sent from the linked browser');
    for (const page of [adaA.page, grace.page]) {
      await expect.poll(() => messageWith(page, 'Sent from the linked browser').count(), POLL).toBe(1);
    }
    await send(adaA.page, 'The first browser still works');
    for (const page of [adaB.page, grace.page]) {
      await expect.poll(() => messageWith(page, 'The first browser still works').count(), POLL).toBe(1);
    }
    await shoot(adaB.page, 'linking-linked-chat', BOTH);
  });

  it('shows both sides of a DM the same safety number, and "Mark as verified" sticks', async () => {
    await adaA.page.goto(new URL(dmPath, server.url).toString());
    await waitForChat(adaA.page);
    await grace.page.goto(new URL(dmPath, server.url).toString());
    await waitForChat(grace.page);

    await adaA.page.getByRole('button', { name: `Verify security with ${GRACE.displayName}` }).click();
    await grace.page.getByRole('button', { name: `Verify security with ${ADA.displayName}` }).click();
    const adaSees = await safetyNumberOf(adaA.page);
    const graceSees = await safetyNumberOf(grace.page);
    expect(adaSees).toMatch(/^\d{60}$/);
    expect(graceSees).toBe(adaSees);
    await shoot(adaA.page, 'safety-number', BOTH);

    const dialog = adaA.page.getByTestId('safety-number-dialog');
    await dialog.getByRole('button', { name: 'Mark as verified' }).click();
    await expect.poll(() => dialog.getByTestId('verified-status').innerText(), POLL).toContain('Verified');
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
    await expect.poll(() => adaA.page.getByTestId('verified-shield').count(), POLL).toBe(1);

    await adaA.page.reload();
    await waitForChat(adaA.page);
    await expect.poll(() => adaA.page.getByTestId('verified-shield').count(), POLL).toBe(1);
    await adaA.page.getByRole('button', { name: `Verify security with ${GRACE.displayName}` }).click();
    await expect.poll(() => dialog.getByTestId('verified-status').innerText(), POLL).toContain('Verified');
    expect(await safetyNumberOf(adaA.page)).toBe(adaSees);
    await shoot(adaA.page, 'safety-number-verified', BOTH);
    await dialog.getByRole('button', { name: 'Remove verification' }).click();
    await expect.poll(() => dialog.getByTestId('verified-status').innerText(), POLL).toContain('Not verified');
  });

  it('logged no errors in the browsers', () => {
    expect(adaA.problems).toEqual([]);
    expect(adaB.problems).toEqual([]);
    expect(grace.problems).toEqual([]);
  });
});

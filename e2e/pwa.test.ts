import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuthClient } from '@chatalot/client';
import { Channel, Community, CommunityInvite, Group, GroupList, ReadStateList } from '@chatalot/protocol';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, REPO_ROOT, startServer } from '../apps/server/test/start-process.js';
import { BOTH, DESKTOP, HAVE_CHROMIUM, POLL, openSeat, shoot } from './browser.js';
import { ADA as OWNER, GRACE as MEMBER, registerAt } from './people.js';
import { closeStage, openStage } from './stage.js';

/**
 * The installable app and the keyboard, in Chromium against the real server (real entry point,
 * SQLite): the manifest is linked and valid and its icons load; the service worker registers,
 * controls the page and keeps this version's shell, so a reload with the network off still
 * starts the app; when the server comes back with a new build, the next reload gets the new
 * shell and the new worker (whose cache replaced the old one). Then, signed in: Ctrl+K opens the
 * quick switcher, typing part of a channel's name and Enter opens it; Ctrl+/ lists the shortcuts;
 * Alt+Shift+↓ goes to the unread channel and Shift+Esc marks everything read.
 *
 * The server serves a copy of apps/web/build (CHATALOT_WEB_DIR), so "a new build" can be made
 * without rebuilding: the copy's service worker, version.json and index.html are changed the way
 * a rebuild changes them (a new version string, a different shell), and the server is restarted
 * on the same port (same origin, so the same worker registration).
 */

const NEXT_BUILD_MARKER = '<meta name="chatalot-e2e-build" content="next" />';

/** A copy of the built web app without pre-compressed siblings (so edits to it are what is served). */
function copyBuild(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'chatalot-e2e-pwa-web-'));
  cpSync(path.join(REPO_ROOT, 'apps/web/build'), dir, {
    recursive: true,
    filter: (src) => !src.endsWith('.br') && !src.endsWith('.gz'),
  });
  return dir;
}

/** Makes the copy look like the next build: a new version everywhere it appears, a different shell. */
function makeNextBuild(dir: string, version: string, next: string) {
  const edit = (file: string, change: (text: string) => string) => {
    const full = path.join(dir, file);
    const before = readFileSync(full, 'utf8');
    const after = change(before);
    expect(after, `${file} changed`).not.toBe(before);
    writeFileSync(full, after);
  };
  edit('service-worker.js', (text) => text.replaceAll(version, next));
  edit('_app/version.json', (text) => text.replaceAll(version, next));
  edit('index.html', (text) => text.replace('</head>', `${NEXT_BUILD_MARKER}</head>`));
}

/** PNG width and height, from the IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe.skipIf(!HAVE_CHROMIUM)('the installable web app and its keyboard shortcuts', () => {
  let server: RunningServer;
  let webDir: string;
  let dataDir: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let version = '';

  const url = (p: string) => new URL(p, server.url).toString();
  const cacheNames = () => page.evaluate(() => caches.keys());

  beforeAll(async () => {
    webDir = copyBuild();
    version = (JSON.parse(readFileSync(path.join(webDir, '_app/version.json'), 'utf8')) as { version: string }).version;
    ({ server, browser, dataDir } = await openStage('pwa', { REGISTRATION_MODE: 'open', CHATALOT_WEB_DIR: webDir }));
    // The browser notes failed loads itself (offline on purpose here).
    ({ context, page, problems } = await openSeat(browser, { ignore: /ERR_INTERNET_DISCONNECTED/ }));
  });
  afterAll(() => closeStage({ server, browser }));

  it('links a valid manifest whose icons load', async () => {
    await page.goto(server.url);
    const href = await page.locator('link[rel="manifest"]').getAttribute('href');
    const res = await fetch(url(href!));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    const manifest = (await res.json()) as Record<string, unknown> & {
      icons: { src: string; sizes: string; type: string; purpose?: string }[];
    };
    expect(manifest).toMatchObject({
      name: 'Chatalot',
      short_name: 'Chatalot',
      start_url: '/',
      scope: '/',
      display: 'standalone',
    });
    expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
    expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/i);

    const pngs = manifest.icons.filter((i) => i.type === 'image/png');
    expect(pngs.map((i) => `${i.sizes} ${i.purpose ?? 'any'}`).sort()).toEqual(
      ['192x192 any', '512x512 any', '512x512 maskable'].sort(),
    );
    for (const icon of pngs) {
      const png = await fetch(url(icon.src));
      expect(png.headers.get('content-type')).toBe('image/png');
      const { width, height } = pngSize(Buffer.from(await png.arrayBuffer()));
      expect(`${width}x${height}`).toBe(icon.sizes);
      // And the page may load it (the CSP allows it).
      const loaded = await page.evaluate(
        (src) =>
          new Promise<number>((resolve) => {
            const img = new Image();
            img.onload = () => resolve(img.naturalWidth);
            img.onerror = () => resolve(0);
            img.src = src;
          }),
        icon.src,
      );
      expect(loaded, icon.src).toBe(width);
    }
  });

  it('registers a service worker that controls the page and keeps this version’s shell', async () => {
    const scope = await page.evaluate(() => navigator.serviceWorker.ready.then((r) => r.scope));
    expect(scope).toBe(url('/'));
    await expect
      .poll(() => page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null), POLL)
      .toBe(url('/service-worker.js'));
    expect(await cacheNames()).toEqual([`chatalot-shell-${version}`]);
    const cached = await page.evaluate(async (name) => {
      const cache = await caches.open(name);
      return (await cache.keys()).map((r) => new URL(r.url).pathname);
    }, `chatalot-shell-${version}`);
    expect(cached).toContain('/');
    expect(cached).toContain('/manifest.webmanifest');
    expect(cached.some((p) => p.startsWith('/_app/immutable/entry/'))).toBe(true);
    expect(cached.filter((p) => p.startsWith('/api') || p.startsWith('/ws'))).toEqual([]);
  });

  it('starts the app from the cached shell when the network is off, without caching the API', async () => {
    await context.setOffline(true);
    await page.reload();
    // The landing page is drawn by the app's JavaScript, so the cached assets ran.
    await expect.poll(() => page.getByRole('link', { name: 'Sign in' }).count(), POLL).toBeGreaterThan(0);
    expect(await page.title()).toBe('Chatalot');
    const api = await page.evaluate(() =>
      fetch('/api/health').then(
        (r) => r.status,
        () => 'network error',
      ),
    );
    expect(api).toBe('network error');
    await shoot(page, 'pwa-offline', { desktop: DESKTOP });
    await context.setOffline(false);
  });

  // The restart goes through `npm start`, which first rebuilds apps/web/build if its sources changed.
  it('gets the new shell and worker at the next reload after the server is updated', async () => {
    const port = new URL(server.url).port;
    await server.stop();
    const next = String(Number(version) + 1);
    makeNextBuild(webDir, version, next);
    server = await startServer({
      DATA_DIR: dataDir,
      REGISTRATION_MODE: 'open',
      CHATALOT_WEB_DIR: webDir,
      LISTEN_ADDR: `127.0.0.1:${port}`,
    });

    await page.reload();
    // Navigations go to the network first: the new shell at once, no prompt.
    expect(await page.locator('meta[name="chatalot-e2e-build"]').count()).toBe(1);
    // The browser noticed the new worker on that navigation; it installed, took over and
    // dropped the old version's cache.
    await expect.poll(cacheNames, POLL).toEqual([`chatalot-shell-${next}`]);
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

    // Offline again, the shell served from the cache is the new one.
    await context.setOffline(true);
    await page.reload();
    await expect.poll(() => page.getByRole('link', { name: 'Sign in' }).count(), POLL).toBeGreaterThan(0);
    expect(await page.locator('meta[name="chatalot-e2e-build"]').count()).toBe(1);
    await context.setOffline(false);
    expect(problems).toEqual([]);
  }, 150_000);

  describe('signed in', () => {
    let owner: AuthClient;
    let member: AuthClient;
    const ids = { society: '', blueprints: '', teas: '' };

    it('signs up, with two communities to go to', async () => {
      await registerAt(page, server.url, OWNER);
      await expect.poll(() => new URL(page.url()).pathname, POLL).toBe('/');

      // Two communities with a few channels, made over the API (the UI for that is tested elsewhere).
      const baseUrl = server.url.replace(/\/$/, '');
      owner = new AuthClient({ baseUrl });
      await owner.login({ username: OWNER.username, password: OWNER.password });
      const society = await owner.authed('/api/communities', {
        method: 'POST',
        body: { name: 'Analytical Society' },
        response: Community,
      });
      ids.society = society.id;
      const groups = await owner.authed(`/api/communities/${society.id}/groups`, { response: GroupList });
      const general = groups.groups[0]!;
      for (const name of ['blueprints', 'announcements']) {
        const channel = await owner.authed(`/api/groups/${general.id}/channels`, {
          method: 'POST',
          body: { name, kind: 'text' },
          response: Channel,
        });
        if (name === 'blueprints') ids.blueprints = channel.id;
      }
      const tea = await owner.authed('/api/communities', {
        method: 'POST',
        body: { name: 'Tea Club' },
        response: Community,
      });
      const engines = await owner.authed(`/api/communities/${tea.id}/groups`, {
        method: 'POST',
        body: { name: 'Kettles', visibility: 'public' },
        response: Group,
      });
      const teas = await owner.authed(`/api/groups/${engines.id}/channels`, {
        method: 'POST',
        body: { name: 'oolong-tasting', kind: 'text' },
        response: Channel,
      });
      ids.teas = teas.id;

      // A second person in the society, to post something unread.
      const invite = await owner.authed(`/api/communities/${society.id}/invites`, {
        method: 'POST',
        body: {},
        response: CommunityInvite,
      });
      member = new AuthClient({ baseUrl });
      await member.register({ username: MEMBER.username, password: MEMBER.password });
      await member.authed(`/api/invites/${invite.code}/join`, { method: 'POST' });

      await page.reload();
      await expect.poll(() => page.getByRole('link', { name: 'Tea Club', exact: true }).count(), POLL).toBe(1);
    });

    it('opens a channel from the quick switcher: Ctrl+K, part of its name, Enter', async () => {
      await page.keyboard.press('Control+k');
      const switcher = page.getByRole('dialog', { name: 'Quick switcher' });
      await expect.poll(() => switcher.count(), POLL).toBe(1);
      const box = switcher.getByRole('combobox', { name: 'Go to a channel, community or conversation' });
      expect(await box.evaluate((el) => el === document.activeElement)).toBe(true);
      // Everything is listed before typing.
      const options = switcher.getByRole('option');
      await expect.poll(() => options.count(), POLL).toBeGreaterThanOrEqual(6);
      await shoot(page, 'switcher-empty', BOTH);

      await box.fill('oolong');
      await expect.poll(() => options.count(), POLL).toBe(1);
      expect(await options.first().getAttribute('aria-selected')).toBe('true');
      expect(await box.getAttribute('aria-activedescendant')).toBe(await options.first().getAttribute('id'));
      await shoot(page, 'switcher-query', BOTH);
      await page.keyboard.press('Enter');

      await expect.poll(() => new URL(page.url()).pathname, POLL).toMatch(new RegExp(`/${ids.teas}$`));
      await expect.poll(() => page.getByTestId('channel-name').textContent(), POLL).toBe('oolong-tasting');
      expect(await switcher.count()).toBe(0);
    });

    it('moves with the arrows, opens the highlighted row and closes on Escape', async () => {
      await page.keyboard.press('Control+k');
      const switcher = page.getByRole('dialog', { name: 'Quick switcher' });
      await expect.poll(() => switcher.count(), POLL).toBe(1);
      await page.keyboard.type('blu');
      const options = switcher.getByRole('option');
      await expect.poll(() => options.first().getAttribute('aria-label'), POLL).toContain('#blueprints');
      await page.keyboard.press('Escape');
      await expect.poll(() => switcher.count(), POLL).toBe(0);
      expect(new URL(page.url()).pathname).toMatch(new RegExp(`/${ids.teas}$`));

      await page.keyboard.press('Control+k');
      await page.keyboard.type('gnrl');
      await expect.poll(() => options.first().getAttribute('aria-label'), POLL).toContain('#general');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.getByTestId('channel-name').textContent(), POLL).toBe('general');
    });

    it('lists the shortcuts with Ctrl+/', async () => {
      await page.locator('#main').focus();
      await page.keyboard.press('Control+/');
      const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
      await expect.poll(() => help.count(), POLL).toBe(1);
      expect(await help.getByText('Mark everything read').count()).toBe(1);
      await shoot(page, 'shortcuts-help', BOTH);
      await page.keyboard.press('Escape');
      await expect.poll(() => help.count(), POLL).toBe(0);
    });

    it('goes to the unread channel with Alt+Shift+↓ and marks everything read with Shift+Esc', async () => {
      for (const [channelId, n] of [
        [ids.blueprints, 1],
        [ids.blueprints, 2],
      ] as const) {
        await member.authed(`/api/channels/${channelId}/messages`, {
          method: 'POST',
          body: {
            nonce: `pwa-unread-${n}`,
            ciphertext: Buffer.from(`opaque bytes ${n}`).toString('base64'),
            encryption: { scheme: 'sender_key', distribution_id: 'pwa-test' },
          },
        });
      }
      const blueprints = page.locator(`a[data-channel="blueprints"]`);
      await expect.poll(() => blueprints.getAttribute('aria-label'), POLL).toContain('unread');

      // The switcher lists unread places first.
      await page.keyboard.press('Control+k');
      const switcher = page.getByRole('dialog', { name: 'Quick switcher' });
      await expect
        .poll(() => switcher.getByRole('option').first().getAttribute('aria-label'), POLL)
        .toContain('#blueprints');
      await shoot(page, 'switcher-unread', BOTH);
      await page.emulateMedia({ colorScheme: 'dark' });
      await shoot(page, 'switcher-unread-dark', { desktop: DESKTOP });
      await page.emulateMedia({ colorScheme: 'light' });
      await page.keyboard.press('Escape');

      await page.locator('#main').focus();
      await page.keyboard.press('Alt+Shift+ArrowDown');
      await expect.poll(() => page.getByTestId('channel-name').textContent(), POLL).toBe('blueprints');
      await expect.poll(() => blueprints.getAttribute('aria-label'), POLL).toBe('blueprints');

      // Somewhere else, unread again there, then everything read at once.
      await page.getByRole('link', { name: 'Tea Club', exact: true }).click();
      await expect.poll(() => page.getByTestId('channel-name').textContent(), POLL).toBe('oolong-tasting');
      await member.authed(`/api/channels/${ids.blueprints}/messages`, {
        method: 'POST',
        body: {
          nonce: 'pwa-unread-3',
          ciphertext: Buffer.from('opaque bytes 3').toString('base64'),
          encryption: { scheme: 'sender_key', distribution_id: 'pwa-test' },
        },
      });
      const society = page.getByRole('link', { name: /^Analytical Society/ });
      await expect.poll(() => society.getAttribute('aria-label'), POLL).toBe('Analytical Society, unread messages');
      await page.locator('#main').focus();
      await page.keyboard.press('Shift+Escape');
      await expect.poll(() => page.getByTestId('shortcut-notice').textContent(), POLL).toContain('Marked 1');
      await expect.poll(() => society.getAttribute('aria-label'), POLL).toBe('Analytical Society');
      // The server has the cursor too (the web app sends it shortly after): a reload shows nothing unread.
      const unreadOnServer = async () => {
        const states = await owner.authed('/api/read-states', { response: ReadStateList });
        return states.channels.find((c) => c.channel_id === ids.blueprints)?.unread;
      };
      await expect.poll(unreadOnServer, POLL).toBe(0);
      await page.reload();
      await expect.poll(() => society.getAttribute('aria-label'), POLL).toBe('Analytical Society');
      expect(problems).toEqual([]);
    });
  });
});

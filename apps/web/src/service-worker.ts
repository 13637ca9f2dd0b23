/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The service worker: keeps this version's app shell (the built JS/CSS, the static files and
 * index.html) in a cache of its own, so the app starts offline and starts fast.
 *
 * - Hashed build assets and static files are served from the cache, then the network.
 * - Page loads (navigations) go to the network first, so an online reload always gets the
 *   server's current shell; only when the network fails is the cached shell served.
 * - Nothing else is touched: `/api`, `/ws`, uploads, avatars and anything user-specific go
 *   straight to the network and are never cached here.
 *
 * Updates are silent. The browser checks this file on every navigation (the server sends it
 * with `Cache-Control: no-cache`); a new build means new bytes (the version is inlined), so the
 * new worker installs in the background, then `skipWaiting` + `clients.claim` make it take over
 * at once and `activate` deletes the old caches. That never interrupts anyone: a page keeps
 * running the code it loaded (a message being composed stays as it is) and only picks up the new
 * shell on its next navigation or reload, which the network-first navigation serves fresh.
 * Waiting for every tab to close instead would keep an old shell alive for days on a desktop
 * PWA that is never closed.
 */
import { build, files, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;

const CACHE_PREFIX = 'chatalot-shell-';
const CACHE = `${CACHE_PREFIX}${version}`;
/** index.html, as the server answers every client-side route. */
const SHELL = '/';
/** Everything this version needs to start: hashed assets, static files, the shell. */
const PRECACHE = new Set([...build, ...files, SHELL]);

sw.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // `reload` skips the HTTP cache, so the shell and static files are this server's current ones.
      await cache.addAll([...PRECACHE].map((url) => new Request(url, { cache: 'reload' })));
      await sw.skipWaiting();
    })(),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith(CACHE_PREFIX) && key !== CACHE) await caches.delete(key);
      }
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin || isServerOnly(url.pathname)) return;

  if (request.mode === 'navigate') {
    event.respondWith(networkThenShell(request));
  } else if (PRECACHE.has(url.pathname) && url.pathname !== SHELL) {
    event.respondWith(cacheThenNetwork(request, url.pathname));
  }
  // Anything else is left to the browser, uncached.
});

/** The API and the socket: always the network, never a cache (they are per user). */
function isServerOnly(pathname: string): boolean {
  return pathname === '/api' || pathname.startsWith('/api/') || pathname === '/ws' || pathname.startsWith('/ws/');
}

async function networkThenShell(request: Request): Promise<Response> {
  try {
    return await fetch(request);
  } catch (err) {
    const shell = await caches.open(CACHE).then((cache) => cache.match(SHELL));
    if (shell) return shell;
    throw err;
  }
}

async function cacheThenNetwork(request: Request, pathname: string): Promise<Response> {
  const cached = await caches.open(CACHE).then((cache) => cache.match(pathname));
  return cached ?? fetch(request);
}

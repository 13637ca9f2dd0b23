import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, notFound } from '../errors.js';

/** The built web app: where it is and the hashes of its inline scripts (for the CSP). */
export interface WebAppShell {
  dir: string;
  present: boolean;
  scriptHashes: string[];
}

const SHELL = 'index.html';

/** Reads the shell once at start; a missing build is reported, not fatal. */
export function readWebAppShell(dir: string): WebAppShell {
  const file = path.join(dir, SHELL);
  if (!existsSync(file)) return { dir, present: false, scriptHashes: [] };
  return { dir, present: true, scriptHashes: inlineScriptHashes(readFileSync(file, 'utf8')) };
}

/** CSP source expressions (`sha256-…`) for each inline `<script>` of an HTML document. */
export function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const match of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
    const body = match[1] ?? '';
    if (body.trim() === '') continue;
    hashes.push(`sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}`);
  }
  return hashes;
}

/**
 * Serves the web app: hashed assets under `_app/immutable/` are cached for a year, everything
 * else revalidates; pre-compressed `.br`/`.gz` siblings are used when the client accepts them.
 * Unknown paths that look like client-side routes get the shell; unknown `/api/…` paths,
 * missing files and non-GET requests get the JSON 404, never the web app.
 */
export async function registerWebApp(app: FastifyInstance, shell: WebAppShell): Promise<void> {
  if (shell.present) {
    await app.register(fastifyStatic, {
      root: shell.dir,
      prefix: '/',
      preCompressed: true,
      wildcard: true,
      index: [SHELL],
      cacheControl: false,
      setHeaders(res, filePath) {
        const immutable = filePath.includes(`${path.sep}_app${path.sep}immutable${path.sep}`);
        res.setHeader('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }

  app.setNotFoundHandler((request, reply) => {
    if (!isClientRoute(request)) throw notFound(`No route for ${request.method} ${pathOf(request)}`);
    if (!shell.present) {
      throw new AppError(
        'service_unavailable',
        'The web app has not been built; run `npm run build` (npm start does this for you)',
      );
    }
    return sendShell(reply);
  });
}

function sendShell(reply: FastifyReply) {
  return reply.sendFile(SHELL);
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '/';
}

/** A GET for a page path: not the API, not the socket, not a file name with an extension. */
function isClientRoute(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const p = pathOf(request);
  if (p === '/api' || p.startsWith('/api/') || p === '/ws' || p.startsWith('/_app/')) return false;
  const last = p.split('/').pop() ?? '';
  return !last.includes('.');
}

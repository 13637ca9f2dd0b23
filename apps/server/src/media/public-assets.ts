import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { notFound } from '../errors.js';
import type { RouteContext } from '../http/route.js';
import type { ProcessedImage } from './image-pipeline.js';

/**
 * Storage for processed public images (avatars, banners, community/group icons, custom emoji).
 *
 * Assets are content-addressed: the id is the hex SHA-256 of the stored bytes plus an
 * extension for the type (`<64 hex>.webp`). The same bytes saved twice give the same id and
 * one file, so an asset may be referenced by several rows: delete it only when nothing refers
 * to it any more. Only bytes that came out of `processImage` should be saved here.
 */

const EXTENSIONS = {
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/png': 'png',
} as const satisfies Record<ProcessedImage['mime'], string>;

const MIME_BY_EXTENSION: Readonly<Record<string, ProcessedImage['mime']>> = {
  webp: 'image/webp',
  gif: 'image/gif',
  png: 'image/png',
};

/** The only shape of a valid asset id; checked before any file-system access. */
export const ASSET_ID_PATTERN = /^[0-9a-f]{64}\.(?:webp|gif|png)$/;

export function isAssetId(id: string): boolean {
  return ASSET_ID_PATTERN.test(id);
}

/** The Content-Type for a valid asset id. */
export function assetMime(id: string): ProcessedImage['mime'] {
  if (!isAssetId(id)) throw notFound('No such asset');
  return MIME_BY_EXTENSION[id.slice(id.lastIndexOf('.') + 1)]!;
}

export class PublicAssetStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /**
   * Stores the image and returns its id. Written to a temporary file in the same directory,
   * flushed, then renamed into place, so a reader never sees a partial file.
   */
  async save(image: ProcessedImage): Promise<string> {
    const id = `${createHash('sha256').update(image.data).digest('hex')}.${EXTENSIONS[image.mime]}`;
    await mkdir(this.dir, { recursive: true });
    const tmp = path.join(this.dir, `.tmp-${randomBytes(12).toString('hex')}`);
    try {
      const handle = await open(tmp, 'wx', 0o644);
      try {
        await handle.writeFile(image.data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.path(id));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return id;
  }

  /** Removes an asset; an unknown or malformed id is a no-op. */
  async delete(id: string): Promise<void> {
    if (!isAssetId(id)) return;
    try {
      await unlink(this.path(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Absolute path of an asset's file; throws `not_found` for a malformed id. */
  path(id: string): string {
    if (!isAssetId(id)) throw notFound('No such asset');
    return path.join(this.dir, id);
  }
}

const AssetParams = z.object({
  id: z.string().describe('Asset id: hex SHA-256 of the content plus extension, e.g. `ab12…ef.webp`.'),
});

/** Headers of every asset response; the content never changes for an id. */
const ASSET_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-disposition': 'inline',
  'cache-control': 'public, max-age=31536000, immutable',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
} as const;

/**
 * `GET /api/assets/:id` (and HEAD): streams a public asset. Registered directly rather than
 * through `addRoute`, because addRoute ends every schema-less route with an empty `send()`;
 * the route is still listed in the API document. Public: no token needed (avatars and
 * emoji are rendered with plain `<img>` tags).
 */
export function registerPublicAssetRoutes(ctx: RouteContext, store: PublicAssetStore): void {
  const url = '/api/assets/:id';
  ctx.docs.add({
    method: 'GET',
    url,
    summary: 'Download a public image (avatar, banner, icon, custom emoji); immutable, cacheable forever',
    tags: ['assets'],
    params: AssetParams,
    status: 200,
    errors: [404],
  });
  ctx.app.get(url, async (request, reply) => {
    const parsed = AssetParams.safeParse(request.params);
    const id = parsed.success ? parsed.data.id : '';
    if (!isAssetId(id)) throw notFound('No such asset');

    let handle;
    try {
      handle = await open(store.path(id), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound('No such asset');
      throw err;
    }
    const etag = `"${id.slice(0, 64)}"`;
    let size: number;
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw notFound('No such asset');
      size = stat.size;
    } catch (err) {
      await handle.close();
      throw err;
    }
    void reply.headers(ASSET_HEADERS).header('etag', etag).type(assetMime(id));
    if (ifNoneMatch(request.headers['if-none-match'], etag)) {
      await handle.close();
      return reply.status(304).send();
    }
    void reply.header('content-length', String(size));
    // The stream owns the handle from here and closes it when done or destroyed.
    return reply.send(handle.createReadStream());
  });
}

function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

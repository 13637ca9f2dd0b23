import { AccountUser } from '@chatalot/protocol';
import type { Kysely } from 'kysely';
import type { AccountService } from '../auth/account-service.js';
import type { DB } from '../db/schema.js';
import { badRequest } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import { withImageBodies } from '../media/image-body.js';
import { releaseAssetIfUnused } from '../media/asset-usage.js';
import { IMAGE_BYTE_LIMITS, processImage } from '../media/image-pipeline.js';
import type { PublicAssetStore } from '../media/public-assets.js';
import type { UsersRepo } from '../users/repo.js';
import { toAccountUser } from '../users/view.js';

export interface ImageRouteDeps {
  db: Kysely<DB>;
  accounts: AccountService;
  users: UsersRepo;
  assets: PublicAssetStore;
  now?: () => number;
}

const SLOTS = [
  { slot: 'avatar', column: 'avatar_asset', kind: 'avatar', summary: 'profile picture (cropped to 512×512)' },
  { slot: 'banner', column: 'banner_asset', kind: 'banner', summary: 'profile banner (fits 1920×1080)' },
] as const;

/**
 * Avatar and banner uploads: the raw image bytes as the request body (PNG, JPEG, WebP or GIF,
 * ≤10 MB), recognised by magic bytes and re-encoded so EXIF and GPS never reach other users.
 * The image body parser lives in this plugin's own scope, so no other route accepts images.
 */
export function registerAccountImageRoutes(ctx: RouteContext, deps: ImageRouteDeps): void {
  const now = deps.now ?? Date.now;
  withImageBodies(ctx, IMAGE_BYTE_LIMITS.avatar, (scoped) => {
    for (const { slot, column, kind, summary } of SLOTS) {
      addRoute(
        scoped,
        {
          method: 'PUT',
          url: `/api/account/${slot}`,
          summary: `Upload the ${summary}; body: the image bytes (image/* or application/octet-stream)`,
          tags: ['account'],
          auth: true,
          response: AccountUser,
          errors: [400, 413, 415],
        },
        async ({ actor, request }) => {
          if (!Buffer.isBuffer(request.body))
            throw badRequest('Send the image bytes as the body with an image/* Content-Type');
          const image = await processImage(request.body, kind);
          const before = await deps.accounts.requireUser(actor.userId);
          const id = await deps.assets.save(image);
          await deps.users.update(actor.userId, { [column]: id, updated_at: now() });
          await releaseAssetIfUnused(deps.db, deps.assets, before[column], id);
          return toAccountUser(await deps.accounts.requireUser(actor.userId));
        },
      );

      addRoute(
        scoped,
        {
          method: 'DELETE',
          url: `/api/account/${slot}`,
          summary: `Remove the ${slot}`,
          tags: ['account'],
          auth: true,
          response: AccountUser,
        },
        async ({ actor }) => {
          const before = await deps.accounts.requireUser(actor.userId);
          await deps.users.update(actor.userId, { [column]: null, updated_at: now() });
          await releaseAssetIfUnused(deps.db, deps.assets, before[column], null);
          return toAccountUser(await deps.accounts.requireUser(actor.userId));
        },
      );
    }
  });
}

import { Community } from '@chatalot/protocol';
import { badRequest, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import { withImageBodies } from '../media/image-body.js';
import { IMAGE_BYTE_LIMITS, processImage } from '../media/image-pipeline.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { topics } from '../spaces/events.js';
import { CommunityParams } from './community-routes.js';
import { releaseAssetIfUnused } from '../media/asset-usage.js';
import { loadCommunity } from './repo.js';

const SLOTS = [
  { slot: 'icon', column: 'icon_asset', kind: 'icon', summary: 'icon (cropped to 512×512)' },
  { slot: 'banner', column: 'banner_asset', kind: 'banner', summary: 'banner (fits 1920×1080)' },
] as const;

/**
 * Community icon and banner (community.update): the raw image bytes as the body (PNG, JPEG,
 * WebP or GIF, ≤10 MB), re-encoded by the image pipeline so no metadata reaches members. The
 * image body parser lives in this plugin's own scope, so no other route accepts images.
 */
export function registerCommunityImageRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  withImageBodies(ctx, Math.max(IMAGE_BYTE_LIMITS.icon, IMAGE_BYTE_LIMITS.banner), (scoped) => {
    for (const { slot, column, kind, summary } of SLOTS) {
      const url = `/api/communities/:id/${slot}`;
      const setAsset = async (communityId: string, asset: string | null) => {
        const before = await deps.db
          .selectFrom('communities')
          .select(column)
          .where('id', '=', communityId)
          .executeTakeFirst();
        if (!before) throw notFound('No such community');
        await deps.db
          .updateTable('communities')
          .set({ [column]: asset, updated_at: deps.now() })
          .where('id', '=', communityId)
          .execute();
        await releaseAssetIfUnused(deps.db, deps.assets, before[column], asset);
        await deps.events.publish(
          { type: 'community.updated', community_id: communityId, fields: [column] },
          topics.community(communityId),
        );
      };

      addRoute(
        scoped,
        {
          method: 'PUT',
          url,
          summary: `Upload the community ${summary} (community.update); body: the image bytes`,
          tags: ['communities'],
          auth: true,
          params: CommunityParams,
          response: Community,
          errors: [400, 403, 404, 413, 415],
        },
        async ({ actor, params, request }) => {
          await deps.permissions.require(actor, 'community.update', params.id);
          if (!Buffer.isBuffer(request.body))
            throw badRequest('Send the image bytes as the body with an image/* Content-Type');
          const image = await processImage(request.body, kind);
          await setAsset(params.id, await deps.assets.save(image));
          return loadCommunity(deps.db, params.id, actor.userId);
        },
      );

      addRoute(
        scoped,
        {
          method: 'DELETE',
          url,
          summary: `Remove the community ${slot} (community.update)`,
          tags: ['communities'],
          auth: true,
          params: CommunityParams,
          response: Community,
          errors: [403, 404],
        },
        async ({ actor, params }) => {
          await deps.permissions.require(actor, 'community.update', params.id);
          await setAsset(params.id, null);
          return loadCommunity(deps.db, params.id, actor.userId);
        },
      );
    }
  });
}

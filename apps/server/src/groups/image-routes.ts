import { Group } from '@chatalot/protocol';
import { releaseAssetIfUnused } from '../media/asset-usage.js';
import { badRequest, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import { withImageBodies } from '../media/image-body.js';
import { IMAGE_BYTE_LIMITS, processImage } from '../media/image-pipeline.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { GroupParams } from './group-routes.js';
import { publishGroupEvent } from './publish.js';
import { groupMemberIds, loadGroup } from './repo.js';

const SLOTS = [
  { slot: 'icon', column: 'icon_asset', kind: 'icon', summary: 'icon (cropped to 512×512)' },
  { slot: 'banner', column: 'banner_asset', kind: 'banner', summary: 'banner (fits 1920×1080)' },
] as const;

/**
 * Group icon and banner (group.update): the raw image bytes as the body, re-encoded by the
 * image pipeline. The image body parser lives in this plugin's own scope only.
 */
export function registerGroupImageRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  withImageBodies(ctx, Math.max(IMAGE_BYTE_LIMITS.icon, IMAGE_BYTE_LIMITS.banner), (scoped) => {
    for (const { slot, column, kind, summary } of SLOTS) {
      const url = `/api/groups/:groupId/${slot}`;
      const setAsset = async (groupId: string, asset: string | null) => {
        const before = await deps.db
          .selectFrom('groups')
          .select(['id', 'community_id', 'visibility', column])
          .where('id', '=', groupId)
          .executeTakeFirst();
        if (!before) throw notFound('No such group');
        await deps.db
          .updateTable('groups')
          .set({ [column]: asset, updated_at: deps.now() })
          .where('id', '=', groupId)
          .execute();
        await releaseAssetIfUnused(deps.db, deps.assets, before[column], asset);
        const members = await groupMemberIds(deps.db, groupId);
        await publishGroupEvent(deps, before, { type: 'group.updated', fields: [column] }, members);
      };

      addRoute(
        scoped,
        {
          method: 'PUT',
          url,
          summary: `Upload the group ${summary} (group.update); body: the image bytes`,
          tags: ['groups'],
          auth: true,
          params: GroupParams,
          response: Group,
          errors: [400, 403, 404, 413, 415],
        },
        async ({ actor, params, request }) => {
          await deps.permissions.require(actor, 'group.update', params.groupId);
          if (!Buffer.isBuffer(request.body)) {
            throw badRequest('Send the image bytes as the body with an image/* Content-Type');
          }
          const image = await processImage(request.body, kind);
          await setAsset(params.groupId, await deps.assets.save(image));
          return loadGroup(deps.db, params.groupId, actor.userId);
        },
      );

      addRoute(
        scoped,
        {
          method: 'DELETE',
          url,
          summary: `Remove the group ${slot} (group.update)`,
          tags: ['groups'],
          auth: true,
          params: GroupParams,
          response: Group,
          errors: [403, 404],
        },
        async ({ actor, params }) => {
          await deps.permissions.require(actor, 'group.update', params.groupId);
          await setAsset(params.groupId, null);
          return loadGroup(deps.db, params.groupId, actor.userId);
        },
      );
    }
  });
}

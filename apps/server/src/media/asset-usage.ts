import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { PublicAssetStore } from './public-assets.js';

/**
 * Public assets are content-addressed, so several rows may share one file (a community icon
 * can be the very bytes of someone's avatar). When a row lets go of `previous`, the file is
 * deleted only if no row anywhere still refers to it. Every column that holds an asset id
 * belongs in this list.
 */
export async function releaseAssetIfUnused(
  db: Kysely<DB>,
  assets: PublicAssetStore,
  previous: string | null,
  current: string | null,
): Promise<void> {
  if (!previous || previous === current) return;
  const uses = await Promise.all([
    db
      .selectFrom('users')
      .select('id')
      .where((eb) => eb.or([eb('avatar_asset', '=', previous), eb('banner_asset', '=', previous)]))
      .executeTakeFirst(),
    db
      .selectFrom('communities')
      .select('id')
      .where((eb) => eb.or([eb('icon_asset', '=', previous), eb('banner_asset', '=', previous)]))
      .executeTakeFirst(),
    db
      .selectFrom('groups')
      .select('id')
      .where((eb) => eb.or([eb('icon_asset', '=', previous), eb('banner_asset', '=', previous)]))
      .executeTakeFirst(),
    db.selectFrom('channels').select('id').where('voice_background', '=', previous).executeTakeFirst(),
  ]);
  if (uses.every((row) => row === undefined)) await assets.delete(previous);
}

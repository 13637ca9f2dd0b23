import { randomBytes } from 'node:crypto';
import {
  CommunityInvite,
  CommunityInviteList,
  CommunityInvitePreview,
  CommunityJoinResult,
  CreateCommunityInvite,
} from '@chatalot/protocol';
import type { ExpressionBuilder } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.js';
import { AppError, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { topics } from '../spaces/events.js';
import { CommunityParams } from './community-routes.js';
import { addMember, loadCommunity, memberCount } from './repo.js';
import { assetUrl, toInvite } from './views.js';

const tags = ['communities'];
const INVITE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
const Code = z.string().min(1).max(64);
const CodeParams = z.object({ code: Code });

/** 12 characters from an unambiguous alphabet (≈70 bits), by rejection sampling. */
export function newCommunityInviteCode(): string {
  let code = '';
  while (code.length < 12) {
    for (const b of randomBytes(24)) {
      if (b >= 256 - (256 % INVITE_ALPHABET.length)) continue;
      code += INVITE_ALPHABET[b % INVITE_ALPHABET.length];
      if (code.length === 12) break;
    }
  }
  return code;
}

/** An invite that can still be used: not revoked, not expired, not used up. */
const usable = (now: number) => (eb: ExpressionBuilder<DB, 'community_invites'>) =>
  eb.and([
    eb('revoked_at', 'is', null),
    eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]),
    eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]),
  ]);

/** Community invites: create, list, revoke, the public preview, and joining by code. */
export function registerCommunityInviteRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/communities/:id/invites',
      summary: 'Create an invite code (community.invites.create: per who_can_create_invites)',
      tags,
      auth: true,
      params: CommunityParams,
      body: CreateCommunityInvite,
      response: CommunityInvite,
      status: 201,
      errors: [400, 403, 404],
    },
    async ({ actor, params, body }) => {
      await deps.permissions.require(actor, 'community.invites.create', params.id);
      const now = deps.now();
      const row = {
        code: newCommunityInviteCode(),
        community_id: params.id,
        created_by: actor.userId,
        max_uses: body.max_uses ?? null,
        uses: 0,
        expires_at: body.expires_in_hours ? now + body.expires_in_hours * 3_600_000 : null,
        revoked_at: null,
        created_at: now,
      };
      await deps.db.insertInto('community_invites').values(row).execute();
      return toInvite(row);
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/communities/:id/invites',
      summary: 'List the community’s invites, newest first (community.invites.manage)',
      tags,
      auth: true,
      params: CommunityParams,
      response: CommunityInviteList,
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      await deps.permissions.require(actor, 'community.invites.manage', params.id);
      const rows = await deps.db
        .selectFrom('community_invites')
        .selectAll()
        .where('community_id', '=', params.id)
        .orderBy('created_at', 'desc')
        .orderBy('code')
        .limit(500)
        .execute();
      return { invites: rows.map(toInvite) };
    },
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/communities/:id/invites/:code',
      summary: 'Revoke an invite of this community (community.invites.manage)',
      tags,
      auth: true,
      params: CommunityParams.extend({ code: Code }),
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      await deps.permissions.require(actor, 'community.invites.manage', params.id);
      // Scoped to the community in the path: a code of another community is "not found".
      const result = await deps.db
        .updateTable('community_invites')
        .set({ revoked_at: deps.now() })
        .where('code', '=', params.code)
        .where('community_id', '=', params.id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw notFound('No such invite');
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/invites/:code',
      summary: 'Preview the community an invite leads to (public: name, description, icon, member count)',
      tags,
      params: CodeParams,
      response: CommunityInvitePreview,
      errors: [404],
    },
    async ({ params }) => {
      const invite = await deps.db
        .selectFrom('community_invites')
        .select(['code', 'community_id'])
        .where('code', '=', params.code)
        .where(usable(deps.now()))
        .executeTakeFirst();
      const row = invite
        ? await deps.db
            .selectFrom('communities')
            .select(['id', 'name', 'description', 'icon_asset'])
            .where('id', '=', invite.community_id)
            .executeTakeFirst()
        : undefined;
      if (!invite || !row) throw notFound('This invite is not valid, used up or expired');
      return {
        code: invite.code,
        community: {
          name: row.name,
          description: row.description,
          icon_url: assetUrl(row.icon_asset),
          member_count: await memberCount(deps.db, row.id),
        },
      };
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/invites/:code/join',
      summary: 'Join a community by invite (banned users are refused); also joins its public groups',
      tags,
      auth: true,
      params: CodeParams,
      response: CommunityJoinResult,
      errors: [403, 404],
    },
    async ({ actor, params }) => {
      const invite = await deps.db
        .selectFrom('community_invites')
        .select('community_id')
        .where('code', '=', params.code)
        .executeTakeFirst();
      if (!invite) throw notFound('This invite is not valid, used up or expired');
      const communityId = invite.community_id;
      const now = deps.now();
      const joined = await deps.db.transaction().execute(async (trx) => {
        const banned = await trx
          .selectFrom('community_bans')
          .select('user_id')
          .where('community_id', '=', communityId)
          .where('user_id', '=', actor.userId)
          .executeTakeFirst();
        if (banned) throw new AppError('banned', 'You are banned from this community');
        // A member already: nothing to do, and the invite keeps its use.
        const added = await addMember(trx, communityId, actor.userId, 'member', now);
        if (!added.added) return added;
        // Counted with a conditional update, so `max_uses` holds under concurrent joins.
        const used = await trx
          .updateTable('community_invites')
          .set((eb) => ({ uses: eb('uses', '+', 1) }))
          .where('code', '=', params.code)
          .where(usable(now))
          .executeTakeFirst();
        if (Number(used.numUpdatedRows) !== 1) throw notFound('This invite is not valid, used up or expired');
        return added;
      });
      if (joined.added) {
        await deps.events.publish(
          { type: 'member.joined', community_id: communityId, user_id: actor.userId, group_ids: joined.groupIds },
          topics.community(communityId),
          topics.user(actor.userId),
        );
        for (const groupId of joined.groupIds) {
          await deps.events.publish(
            { type: 'member.joined', community_id: communityId, group_id: groupId, user_id: actor.userId },
            topics.group(groupId),
          );
        }
      }
      return { joined: joined.added, community: await loadCommunity(deps.db, communityId, actor.userId) };
    },
  );
}

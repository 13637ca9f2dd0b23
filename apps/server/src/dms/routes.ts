import {
  AddDmMemberRequest,
  CreateGroupDmRequest,
  Dm,
  DmList,
  OpenDmRequest,
  UpdateGroupDmRequest,
} from '@chatalot/protocol';
import { z } from 'zod';
import { addRoute, type RouteContext } from '../http/route.js';
import type { SpacesDeps } from '../spaces/deps.js';
import { registerBlockRoutes } from './blocks.js';
import { Reach } from './reach.js';
import { DmService } from './service.js';
import { registerUserRoutes } from './user-search.js';

const ChannelParams = z.object({ channelId: z.string().min(1).max(64) });

/**
 * DMs and group DMs (`/api/dms`), user blocks (`/api/blocks`) and finding people
 * (`/api/users/search`, `/api/users/:userId`). Routes on one DM authorize with
 * `channel.view`, which only the DM's members pass (PRODUCT.md §3: no third party, ever).
 */
export function registerDmRoutes(ctx: RouteContext, deps: SpacesDeps): void {
  const reach = new Reach(deps.db);
  const dms = new DmService(deps, reach);
  const tags = ['dms'];

  addRoute(
    ctx,
    { method: 'GET', url: '/api/dms', summary: 'List your DMs and group DMs', tags, auth: true, response: DmList },
    async ({ actor }) => ({ dms: await dms.list(actor) }),
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/dms',
      summary:
        'Get or create the 1:1 DM with a user you share a community with (201 when created, 200 when it existed)',
      tags,
      auth: true,
      body: OpenDmRequest,
      response: Dm,
      status: 201,
      errors: [400, 403, 404],
    },
    async ({ actor, body, reply }) => {
      const { dm, created } = await dms.open(actor, body.user_id);
      if (!created) reply.status(200);
      return dm;
    },
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/dms/group',
      summary: 'Create a group DM with 2–9 people you share a community with',
      tags,
      auth: true,
      body: CreateGroupDmRequest,
      response: Dm,
      status: 201,
      errors: [400, 403, 404],
    },
    async ({ actor, body }) => dms.createGroup(actor, body.user_ids, body.name ?? ''),
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/dms/:channelId',
      summary: 'One of your DMs',
      tags,
      auth: true,
      params: ChannelParams,
      response: Dm,
      errors: [404],
    },
    async ({ actor, params }) => dms.get(actor, params.channelId),
  );

  addRoute(
    ctx,
    {
      method: 'PATCH',
      url: '/api/dms/:channelId',
      summary: 'Rename a group DM you are in',
      tags,
      auth: true,
      params: ChannelParams,
      body: UpdateGroupDmRequest,
      response: Dm,
      errors: [400, 404],
    },
    async ({ actor, params, body }) => dms.rename(actor, params.channelId, body.name),
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/dms/:channelId/members',
      summary: 'Add someone you share a community with to a group DM you are in (at most 10 people)',
      tags,
      auth: true,
      params: ChannelParams,
      body: AddDmMemberRequest,
      response: Dm,
      errors: [400, 403, 404, 409],
    },
    async ({ actor, params, body }) => dms.addMember(actor, params.channelId, body.user_id),
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/dms/:channelId/leave',
      summary: 'Leave a group DM (1:1 DMs cannot be left)',
      tags,
      auth: true,
      params: ChannelParams,
      errors: [400, 404],
    },
    async ({ actor, params }) => dms.leave(actor, params.channelId),
  );

  registerBlockRoutes(ctx, deps);
  registerUserRoutes(ctx, deps, reach);
}

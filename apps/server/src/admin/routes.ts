import { randomBytes } from 'node:crypto';
import {
  AuditPage,
  AuditQuery,
  CreateRegistrationInvite,
  RegistrationInvite,
  RegistrationInviteList,
} from '@chatalot/protocol';
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import { auditSource, type AuditLog } from '../audit/audit-log.js';
import { isInstanceAdmin, type Actor } from '../auth/authenticate.js';
import type { DB, RegistrationInvitesTable } from '../db/schema.js';
import { forbidden, notFound } from '../errors.js';
import { addRoute, type RouteContext } from '../http/route.js';

export interface AdminRouteDeps {
  db: Kysely<DB>;
  audit: AuditLog;
  now?: () => number;
}

const INVITE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

function assertAdmin(actor: Actor): void {
  if (!isInstanceAdmin(actor)) throw forbidden('Only instance admins can do that');
}

/** 12 characters from an unambiguous alphabet (≈70 bits). */
function newInviteCode(): string {
  const bytes = randomBytes(24);
  let code = '';
  for (const b of bytes) {
    // Rejection sampling keeps every character equally likely.
    if (b >= 256 - (256 % INVITE_ALPHABET.length)) continue;
    code += INVITE_ALPHABET[b % INVITE_ALPHABET.length];
    if (code.length === 12) return code;
  }
  return newInviteCode();
}

const toInvite = (row: Selectable<RegistrationInvitesTable>): z.input<typeof RegistrationInvite> => ({
  code: row.code,
  created_by: row.created_by,
  max_uses: row.max_uses,
  uses: row.uses,
  expires_at: row.expires_at,
  revoked: row.revoked_at !== null,
  created_at: row.created_at,
});

/** Instance administration: registration invites and the audit log (`/api/admin/…`). */
export function registerAdminRoutes(ctx: RouteContext, deps: AdminRouteDeps): void {
  const now = deps.now ?? Date.now;
  const tags = ['admin'];

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/admin/invites',
      summary: 'Create a registration invite',
      tags,
      auth: true,
      body: CreateRegistrationInvite,
      response: RegistrationInvite,
      status: 201,
      errors: [400, 403],
    },
    async ({ actor, body, request }) => {
      assertAdmin(actor);
      const row = {
        code: newInviteCode(),
        created_by: actor.userId,
        max_uses: body.max_uses ?? null,
        uses: 0,
        expires_at: body.expires_in_hours ? now() + body.expires_in_hours * 3_600_000 : null,
        revoked_at: null,
        created_at: now(),
      };
      await deps.db.insertInto('registration_invites').values(row).execute();
      await deps.audit.record('invite_created', auditSource(request), {
        actorId: actor.userId,
        details: { max_uses: row.max_uses, expires_at: row.expires_at },
      });
      return toInvite(row);
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/admin/invites',
      summary: 'List registration invites',
      tags,
      auth: true,
      response: RegistrationInviteList,
      errors: [403],
    },
    async ({ actor }) => {
      assertAdmin(actor);
      const rows = await deps.db
        .selectFrom('registration_invites')
        .selectAll()
        .orderBy('created_at', 'desc')
        .limit(500)
        .execute();
      return { invites: rows.map(toInvite) };
    },
  );

  addRoute(
    ctx,
    {
      method: 'DELETE',
      url: '/api/admin/invites/:code',
      summary: 'Revoke a registration invite',
      tags,
      auth: true,
      params: z.object({ code: z.string().min(1).max(64) }),
      errors: [403, 404],
    },
    async ({ actor, params, request }) => {
      assertAdmin(actor);
      const result = await deps.db
        .updateTable('registration_invites')
        .set({ revoked_at: now() })
        .where('code', '=', params.code)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw notFound('No such invite');
      await deps.audit.record('invite_revoked', auditSource(request), {
        actorId: actor.userId,
        details: { code: params.code },
      });
    },
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/admin/audit-log',
      summary: 'Read the audit log, newest first (filters: action, user, time range)',
      tags,
      auth: true,
      query: AuditQuery,
      response: AuditPage,
      errors: [400, 403],
    },
    async ({ actor, query }) => {
      assertAdmin(actor);
      const { entries, nextCursor } = await deps.audit.query({
        action: query.action,
        userId: query.user_id,
        from: query.from,
        to: query.to,
        cursor: query.cursor,
        limit: query.limit,
      });
      return { entries, next_cursor: nextCursor };
    },
  );
}

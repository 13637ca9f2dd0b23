import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { badRequest } from '../errors.js';

/** Every action the audit log records (auth events and admin/moderator actions). */
export type AuditAction =
  | 'register'
  | 'login_ok'
  | 'login_failed'
  | 'logout'
  | 'logout_all'
  | 'session_revoked'
  | 'refresh_token_reused'
  | 'password_changed'
  | 'recovery_used'
  | 'recovery_code_regenerated'
  | 'totp_used'
  | 'totp_enabled'
  | 'totp_disabled'
  | 'backup_code_used'
  | 'backup_codes_regenerated'
  | 'account_deleted'
  | 'admin_granted'
  | 'invite_created'
  | 'invite_revoked'
  // Communities and their moderation
  | 'community_created'
  | 'community_updated'
  | 'community_deleted'
  | 'community_transferred'
  | 'member_kicked'
  | 'member_banned'
  | 'member_unbanned'
  | 'member_role_changed'
  | 'personal_group_assigned'
  | 'group_deleted'
  | 'channel_deleted'
  // Instance moderation
  | 'user_suspended'
  | 'user_unsuspended';

/** Who did it from where: the audit log is the one place that keeps IPs. */
export interface AuditSource {
  ip: string | null;
  userAgent: string | null;
}

export interface AuditRecord {
  actorId?: string | null;
  targetId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditFilters {
  action?: string | undefined;
  userId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  cursor?: string | undefined;
  limit: number;
}

export interface AuditRow {
  id: string;
  action: string;
  actor_id: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  created_at: number;
}

/** The IP (as decided by TRUSTED_PROXIES) and user agent of a request. */
export function auditSource(request: FastifyRequest): AuditSource {
  const ua = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: typeof ua === 'string' ? ua.slice(0, 256) : null };
}

export class AuditLog {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly now: () => number = Date.now,
  ) {}

  async record(action: AuditAction, source: AuditSource, record: AuditRecord = {}): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        id: randomUUID(),
        action,
        actor_id: record.actorId ?? null,
        target_id: record.targetId ?? null,
        ip: source.ip,
        user_agent: source.userAgent,
        details: JSON.stringify(record.details ?? {}),
        created_at: this.now(),
      })
      .execute();
  }

  /** Newest first, filtered, paginated with an opaque cursor. */
  async query(filters: AuditFilters): Promise<{ entries: AuditRow[]; nextCursor: string | null }> {
    let q = this.db.selectFrom('audit_log').selectAll();
    if (filters.action) q = q.where('action', '=', filters.action);
    if (filters.userId) {
      const id = filters.userId;
      q = q.where((eb) => eb.or([eb('actor_id', '=', id), eb('target_id', '=', id)]));
    }
    if (filters.from !== undefined) q = q.where('created_at', '>=', filters.from);
    if (filters.to !== undefined) q = q.where('created_at', '<', filters.to);
    if (filters.cursor) {
      const { at, id } = decodeCursor(filters.cursor);
      q = q.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
    }
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filters.limit + 1)
      .execute();
    const page = rows.slice(0, filters.limit);
    const last = page.at(-1);
    return {
      entries: page.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> })),
      nextCursor: rows.length > filters.limit && last ? encodeCursor(last.created_at, last.id) : null,
    };
  }

  /** Deletes entries older than the retention period; returns how many. */
  async purgeOlderThan(retentionDays: number): Promise<number> {
    const cutoff = this.now() - retentionDays * 24 * 60 * 60 * 1000;
    const result = await this.db.deleteFrom('audit_log').where('created_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function encodeCursor(at: number, id: string): string {
  return Buffer.from(`${at}:${id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { at: number; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  if (!at || !id || !/^\d+$/.test(at)) throw badRequest('Invalid cursor');
  return { at: Number(at), id };
}

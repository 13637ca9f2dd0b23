import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditLog, AuditSource } from '../audit/audit-log.js';
import type { Broker } from '../broker/broker.js';
import type { DB } from '../db/schema.js';
import { AppError, notFound } from '../errors.js';
import {
  ACCESS_TOKEN_TTL_SECS,
  type AccessTokens,
  REFRESH_TOKEN_TTL_MS,
  hashRefreshToken,
  newRefreshToken,
} from './tokens.js';

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

/** Topic on which a user's account events travel to their open sockets (any process). */
export const userTopic = (userId: string) => `user:${userId}`;

/**
 * Sessions and their refresh tokens. Each sign-in is a new session (other devices stay signed
 * in); each refresh rotates the token; presenting a token that was already used revokes the
 * whole session, since either the user or a thief holds a copy.
 */
export class SessionService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly tokens: AccessTokens,
    private readonly audit: AuditLog,
    private readonly broker: Broker,
    private readonly now: () => number = Date.now,
  ) {}

  async create(
    userId: string,
    source: AuditSource,
    deviceName: string,
  ): Promise<{ sessionId: string; tokens: IssuedTokens }> {
    const sessionId = randomUUID();
    const now = this.now();
    const refresh = newRefreshToken();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('sessions')
        .values({
          id: sessionId,
          user_id: userId,
          device_name: deviceName,
          ip: source.ip,
          user_agent: source.userAgent,
          created_at: now,
          last_used_at: now,
          revoked_at: null,
        })
        .execute();
      await trx
        .insertInto('refresh_tokens')
        .values({
          token_hash: hashRefreshToken(refresh),
          session_id: sessionId,
          expires_at: now + REFRESH_TOKEN_TTL_MS,
          used_at: null,
          created_at: now,
        })
        .execute();
    });
    return { sessionId, tokens: await this.pair(userId, sessionId, refresh) };
  }

  /** Exchanges a refresh token for a new pair; exactly one of several concurrent uses wins. */
  async refresh(token: string, source: AuditSource): Promise<IssuedTokens> {
    const now = this.now();
    const hash = hashRefreshToken(token);
    const row = await this.db
      .selectFrom('refresh_tokens as t')
      .innerJoin('sessions as s', 's.id', 't.session_id')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['t.session_id', 't.used_at', 't.expires_at', 's.user_id', 's.revoked_at', 'u.suspended_at'])
      .where('t.token_hash', '=', hash)
      .executeTakeFirst();
    if (!row || row.revoked_at !== null)
      throw new AppError('invalid_token', 'The refresh token is not valid; sign in again');
    if (row.used_at !== null) {
      await this.revoke(row.session_id, 'refresh_token_reused');
      await this.audit.record('refresh_token_reused', source, {
        actorId: row.user_id,
        details: { session_id: row.session_id },
      });
      throw new AppError('invalid_token', 'The refresh token was already used; the session has been signed out');
    }
    if (row.expires_at <= now) throw new AppError('invalid_token', 'The refresh token has expired; sign in again');
    if (row.suspended_at !== null) throw new AppError('account_suspended', 'This account is suspended');

    const next = newRefreshToken();
    const won = await this.db.transaction().execute(async (trx) => {
      // The conditional update is the race arbiter: only one caller sees a row change.
      const claimed = await trx
        .updateTable('refresh_tokens')
        .set({ used_at: now })
        .where('token_hash', '=', hash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) return false;
      await trx
        .insertInto('refresh_tokens')
        .values({
          token_hash: hashRefreshToken(next),
          session_id: row.session_id,
          expires_at: now + REFRESH_TOKEN_TTL_MS,
          used_at: null,
          created_at: now,
        })
        .execute();
      await trx
        .updateTable('sessions')
        .set({ last_used_at: now, ip: source.ip })
        .where('id', '=', row.session_id)
        .execute();
      return true;
    });
    if (!won) throw new AppError('invalid_token', 'The refresh token was already used');
    return this.pair(row.user_id, row.session_id, next);
  }

  async list(userId: string) {
    return this.db
      .selectFrom('sessions')
      .select(['id', 'device_name', 'ip', 'created_at', 'last_used_at'])
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .orderBy('last_used_at', 'desc')
      .execute();
  }

  /** Revokes one of the user's sessions; `not_found` when it is not theirs or already gone. */
  async revokeOwn(userId: string, sessionId: string): Promise<void> {
    const session = await this.db
      .selectFrom('sessions')
      .select('id')
      .where('id', '=', sessionId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!session) throw notFound('No such session');
    await this.revoke(sessionId, 'revoked');
  }

  /** Revokes every live session of a user except `keep`; returns how many. */
  async revokeAll(userId: string, reason: string, keep?: string): Promise<number> {
    let q = this.db.selectFrom('sessions').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null);
    if (keep) q = q.where('id', '!=', keep);
    const sessions = await q.execute();
    for (const s of sessions) await this.revoke(s.id, reason);
    return sessions.length;
  }

  /** Marks the session revoked and tells its open sockets, on every process, to close. */
  async revoke(sessionId: string, reason: string): Promise<void> {
    const row = await this.db
      .updateTable('sessions')
      .set({ revoked_at: this.now() })
      .where('id', '=', sessionId)
      .where('revoked_at', 'is', null)
      .returning(['user_id'])
      .executeTakeFirst();
    if (!row) return;
    await this.db
      .deleteFrom('refresh_tokens')
      .where('session_id', '=', sessionId)
      .where('used_at', 'is', null)
      .execute();
    await this.broker.publish(
      userTopic(row.user_id),
      JSON.stringify({ type: 'session.revoked', session_id: sessionId, reason }),
    );
  }

  private async pair(userId: string, sessionId: string, refresh: string): Promise<IssuedTokens> {
    return {
      access_token: await this.tokens.issue({ userId, sessionId }, this.now()),
      refresh_token: refresh,
      expires_in: ACCESS_TOKEN_TTL_SECS,
    };
  }
}

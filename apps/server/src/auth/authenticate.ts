import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { PreparedQuery } from '../db/prepared.js';
import type { DB, InstanceRole } from '../db/schema.js';
import { AppError, unauthorized } from '../errors.js';
import type { AccessTokens } from './tokens.js';

/** The signed-in user making a request, as of this request (never stale token claims). */
export interface Actor {
  userId: string;
  sessionId: string;
  username: string;
  instanceRole: InstanceRole;
}

/**
 * The one `requireAuth`: verifies the bearer token, then reads the session and the user so a
 * revoked session, a suspended account or a changed role takes effect on the next request.
 * One indexed join per request; no cache to invalidate across processes.
 */
export class Authenticator {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly tokens: AccessTokens,
  ) {}

  async require(request: FastifyRequest): Promise<Actor> {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header) : null;
    if (!match) throw unauthorized('Sign in first: send Authorization: Bearer <access token>');
    return this.fromToken(match[1]!);
  }

  async fromToken(token: string): Promise<Actor> {
    return (await this.withExpiry(token)).actor;
  }

  /** For the WebSocket gateway, where the token arrives in a frame and the socket lives as long as it. */
  async withExpiry(token: string): Promise<{ actor: Actor; expiresAt: number }> {
    const claims = await this.tokens.verify(token);
    const row = await SESSION_AND_USER.first(this.db, { sessionId: claims.sessionId });
    if (!row || row.id !== claims.userId || row.revoked_at !== null) {
      throw new AppError('session_revoked', 'This session has been signed out');
    }
    if (row.suspended_at !== null) throw new AppError('account_suspended', 'This account is suspended');
    const actor = {
      userId: row.id,
      sessionId: claims.sessionId,
      username: row.username,
      instanceRole: row.instance_role,
    };
    return { actor, expiresAt: claims.expiresAtMs ?? 0 };
  }
}

/** The session and its user, read on every authenticated request (compiled once: see PreparedQuery). */
const SESSION_AND_USER = new PreparedQuery((db, p: { sessionId: string }) =>
  db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.revoked_at', 'u.id', 'u.username', 'u.instance_role', 'u.suspended_at'])
    .where('s.id', '=', p.sessionId),
);

export const isInstanceAdmin = (actor: Actor) => actor.instanceRole === 'owner' || actor.instanceRole === 'admin';

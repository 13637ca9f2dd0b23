import { randomBytes } from 'node:crypto';
import {
  PROVISIONING_ID_ALPHABET,
  PROVISIONING_ID_LENGTH,
  PROVISIONING_LIMITS,
  type CreateProvisioningSession,
  type ProvisioningEnvelope,
  type ProvisioningSession,
  type ProvisioningSessionCreated,
} from '@chatalot/protocol';
import type { Kysely } from 'kysely';
import type { Actor } from '../auth/authenticate.js';
import type { DB } from '../db/schema.js';
import { AppError, conflict, forbidden, notFound, rateLimited } from '../errors.js';
import type { BucketSpec, CounterStore } from '../rate-limit/index.js';
import { ProvisioningRepo, type ProvisioningRow } from './repo.js';

export interface ProvisioningDeps {
  db: Kysely<DB>;
  counterStore: CounterStore;
  now: () => number;
}

const noSuchSession = () => notFound('No such linking session (it may have expired)');

/** A random session id: 10 Crockford base32 characters (256 is a multiple of 32: no bias). */
function newSessionId(): string {
  let id = '';
  for (const byte of randomBytes(PROVISIONING_ID_LENGTH)) id += PROVISIONING_ID_ALPHABET[byte % 32];
  return id;
}

/**
 * Linking a new device (PRODUCT.md §5 "Devices"): a relay of one opaque envelope between two
 * signed-in sessions of the same user. The new device's session opens it and alone reads the
 * envelope; only another session of that user may post the envelope, once. Other users never
 * learn that a session exists (404). The server cannot read the envelope: it is encrypted to
 * the ephemeral key, which the approving person checks against the code the new device shows.
 */
export class ProvisioningService {
  private readonly repo: ProvisioningRepo;

  constructor(private readonly deps: ProvisioningDeps) {
    this.repo = new ProvisioningRepo(deps.db);
  }

  async create(actor: Actor, input: CreateProvisioningSession): Promise<ProvisioningSessionCreated> {
    await this.take('create', actor.userId, PROVISIONING_LIMITS.createBucket);
    const now = this.deps.now();
    await this.repo.purgeExpired(now);
    if ((await this.repo.openCount(actor.userId, now)) >= PROVISIONING_LIMITS.openSessionsPerUser) {
      throw new AppError('limit_reached', 'Too many linking sessions are open: wait for one to expire');
    }
    const row: ProvisioningRow = {
      id: newSessionId(),
      user_id: actor.userId,
      creator_session_id: actor.sessionId,
      ephemeral_key: input.ephemeral_key,
      device_name: input.device_name,
      envelope: null,
      approver_session_id: null,
      created_at: now,
      expires_at: now + PROVISIONING_LIMITS.sessionTtlMs,
    };
    await this.repo.insert(row);
    return { id: row.id, expires_at: row.expires_at };
  }

  /** What the approving device shows: the new device's name and its ephemeral key. */
  async get(actor: Actor, id: string): Promise<ProvisioningSession> {
    const row = await this.find(actor, id);
    return {
      id: row.id,
      device_name: row.device_name,
      ephemeral_key: row.ephemeral_key,
      created_at: row.created_at,
      expires_at: row.expires_at,
      approved: row.envelope !== null,
    };
  }

  /** Posts the envelope from another signed-in session of the owner; one per session. */
  async approve(actor: Actor, id: string, envelope: string): Promise<void> {
    const row = await this.find(actor, id);
    if (row.creator_session_id === actor.sessionId) {
      throw forbidden('Approve the new device from another device where you are signed in');
    }
    if (!(await this.repo.setEnvelope(actor.userId, id, envelope, actor.sessionId, this.deps.now()))) {
      throw conflict('This device was already approved');
    }
  }

  /** The new device's poll; only the session that opened it may read the envelope. */
  async envelope(actor: Actor, id: string): Promise<ProvisioningEnvelope> {
    const row = await this.find(actor, id);
    if (row.creator_session_id !== actor.sessionId) throw noSuchSession();
    return { envelope: row.envelope };
  }

  /** Ends a session early (linked, or cancelled) from any session of the owner. */
  async remove(actor: Actor, id: string): Promise<void> {
    await this.take('access', actor.userId, PROVISIONING_LIMITS.accessBucket);
    if (!(await this.repo.delete(actor.userId, id))) throw noSuchSession();
  }

  private async find(actor: Actor, id: string): Promise<ProvisioningRow> {
    await this.take('access', actor.userId, PROVISIONING_LIMITS.accessBucket);
    const row = await this.repo.find(actor.userId, id, this.deps.now());
    if (!row) throw noSuchSession();
    return row;
  }

  private async take(kind: 'create' | 'access', userId: string, spec: BucketSpec): Promise<void> {
    const result = await this.deps.counterStore.takeToken(`provisioning:${kind}:${userId}`, spec, this.deps.now());
    if (!result.allowed) throw rateLimited(result.retryAfterSecs);
  }
}

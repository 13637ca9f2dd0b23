import { randomUUID } from 'node:crypto';
import { AccessTokens } from '../auth/tokens.js';
import type { InstanceRole } from '../db/schema.js';
import type { TestApp } from './test-app.js';

/** Argon2id of "test password 1", computed once: tests that need many users skip hashing. */
const PASSWORD = 'test password 1';
const PASSWORD_HASH =
  '$argon2id$v=19$m=65536,t=3,p=4$05nQv9SV7ehiJHK5YpAtZw$VYmcnCrISyOZH1caaen6iWfgnEqpOHVxkKqxSgrPwEY';

export interface TestUser {
  id: string;
  username: string;
  password: string;
  /** `{ authorization: 'Bearer …' }` for app.inject. */
  auth: { authorization: string };
}

/**
 * Creates a user and a signed-in session straight in the database: for tests that need many
 * users and are not about registration (which costs an Argon2 hash per user).
 */
export async function createUser(
  t: TestApp,
  username: string,
  options: { instanceRole?: InstanceRole; suspended?: boolean } = {},
): Promise<TestUser> {
  const db = t.db.database.db;
  const now = Date.now();
  const id = randomUUID();
  await db
    .insertInto('users')
    .values({
      id,
      username,
      username_lower: username.toLowerCase(),
      display_name: username,
      email: null,
      email_lower: null,
      password_hash: PASSWORD_HASH,
      instance_role: options.instanceRole ?? 'user',
      suspended_at: options.suspended ? now : null,
      suspended_reason: options.suspended ? 'test' : null,
      totp_secret: null,
      totp_pending_secret: null,
      totp_enabled_at: null,
      totp_last_step: null,
      recovery_code_hash: 'x',
      avatar_asset: null,
      banner_asset: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  const sessionId = randomUUID();
  await db
    .insertInto('sessions')
    .values({
      id: sessionId,
      user_id: id,
      device_name: 'test',
      ip: null,
      user_agent: null,
      created_at: now,
      last_used_at: now,
      revoked_at: null,
    })
    .execute();
  const tokens = new AccessTokens(
    { privateKey: t.secrets.jwtPrivateKey, publicKey: t.secrets.jwtPublicKey },
    t.config.publicUrl ?? 'chatalot',
  );
  const token = await tokens.issue({ userId: id, sessionId });
  return { id, username, password: PASSWORD, auth: { authorization: `Bearer ${token}` } };
}

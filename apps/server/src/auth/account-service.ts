import { randomUUID } from 'node:crypto';
import type { RegisterRequest } from '@chatalot/protocol';
import { deviceNameFromUserAgent } from '@chatalot/protocol';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import type { AuditLog, AuditSource } from '../audit/audit-log.js';
import type { Config } from '../config.js';
import { isUniqueViolation } from '../db/errors.js';
import type { DB, InstanceRole } from '../db/schema.js';
import { AppError, forbidden } from '../errors.js';
import type { LoginThrottle } from '../rate-limit/index.js';
import type { UserRow, UsersRepo } from '../users/repo.js';
import { codesEqual, generateRecoveryCode, hashCode, normalizeCode, RECOVERY_CODE_LENGTH } from './codes.js';
import { assertAcceptablePassword, hashPassword, verifyAgainstDummy, verifyPassword } from './passwords.js';
import type { SecondFactor } from './second-factor.js';
import type { IssuedTokens, SessionService } from './sessions.js';

const OWNER_KEY = 'owner_user_id';
const invalidCredentials = () => new AppError('invalid_credentials', 'Wrong username or password');

export interface AccountServiceDeps {
  db: Kysely<DB>;
  users: UsersRepo;
  sessions: SessionService;
  secondFactor: SecondFactor;
  audit: AuditLog;
  throttle: LoginThrottle;
  config: Pick<Config, 'registrationMode' | 'adminUsername'>;
  /** Server-held key that peppers recovery and backup code hashes. */
  pepper: Uint8Array;
  now?: () => number;
}

/** Registration, sign-in, recovery and the password: PRODUCT.md §2. */
export class AccountService {
  private readonly now: () => number;
  constructor(private readonly deps: AccountServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  async register(input: z.output<typeof RegisterRequest>, source: AuditSource) {
    const { users } = this.deps;
    assertAcceptablePassword(input.password, input.username);
    if (await users.usernameTaken(input.username)) throw new AppError('username_taken', 'That username is taken');
    if (input.email && (await users.emailTaken(input.email)))
      throw new AppError('email_taken', 'That email address is already used');

    const passwordHash = await hashPassword(input.password);
    const recoveryCode = generateRecoveryCode();
    const row = {
      id: randomUUID(),
      username: input.username,
      username_lower: input.username.toLowerCase(),
      display_name: input.display_name ?? input.username,
      email: input.email ?? null,
      email_lower: input.email?.toLowerCase() ?? null,
      password_hash: passwordHash,
      recovery_code_hash: hashCode(this.deps.pepper, normalizeCode(recoveryCode)!),
      suspended_at: null,
      suspended_reason: null,
      totp_secret: null,
      totp_pending_secret: null,
      totp_enabled_at: null,
      totp_last_step: null,
      avatar_asset: null,
      banner_asset: null,
      created_at: this.now(),
      updated_at: this.now(),
    };

    const role = await this.insertUser(row, input.invite_code);
    await this.deps.audit.record('register', source, { actorId: row.id, details: { username: row.username, role } });
    const { tokens } = await this.deps.sessions.create(row.id, source, deviceNameFromUserAgent(source.userAgent));
    const user = (await users.findById(row.id))!;
    return { user, tokens, recoveryCode };
  }

  /**
   * Inserts the user. The first account on an empty instance becomes owner without an invite
   * (claimed through a unique settings key, so two simultaneous first registrations cannot
   * both win); everyone else goes through the registration mode.
   */
  private async insertUser(
    row: Parameters<UsersRepo['insert']>[0],
    inviteCode: string | undefined,
  ): Promise<InstanceRole> {
    const { db, config } = this.deps;
    const empty = !(await db
      .selectFrom('instance_settings')
      .select('key')
      .where('key', '=', OWNER_KEY)
      .executeTakeFirst());
    if (empty) {
      try {
        await db.transaction().execute(async (trx) => {
          await trx
            .insertInto('instance_settings')
            .values({ key: OWNER_KEY, value: row.id, updated_at: this.now() })
            .execute();
          await trx
            .insertInto('users')
            .values({ ...row, instance_role: 'owner' })
            .execute();
        });
        return 'owner';
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // Someone else became owner (or took the username) in the meantime: go the normal way.
      }
    }

    if (config.registrationMode === 'closed')
      throw new AppError('registration_closed', 'Registration is closed on this server');
    if (config.registrationMode === 'invite_only' && !inviteCode) {
      throw new AppError('invite_required', 'This server needs an invite code to register');
    }
    const role: InstanceRole =
      config.adminUsername?.toLowerCase() === row.username_lower && !(await this.deps.users.anyAdmin())
        ? 'admin'
        : 'user';
    try {
      await db.transaction().execute(async (trx) => {
        if (inviteCode) {
          const now = this.now();
          const used = await trx
            .updateTable('registration_invites')
            .set((eb) => ({ uses: eb('uses', '+', 1) }))
            .where('code', '=', inviteCode)
            .where('revoked_at', 'is', null)
            .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
            .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
            .executeTakeFirst();
          if (Number(used.numUpdatedRows) !== 1)
            throw new AppError('invalid_invite', 'The invite code is not valid, used up or expired');
        }
        await trx
          .insertInto('users')
          .values({ ...row, instance_role: role })
          .execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('username_taken', 'That username or email address is taken');
      throw err;
    }
    return role;
  }

  /**
   * Sign-in. An unknown username costs one Argon2 verification like a wrong password and gets
   * the same answer. Failures count per account and source IP (see LoginThrottle).
   */
  async login(
    input: { username: string; password: string; totp_code?: string | undefined; device_name?: string | undefined },
    source: AuditSource,
  ): Promise<{ user: UserRow; tokens: IssuedTokens }> {
    const { users, throttle, audit } = this.deps;
    const accountKey = input.username.toLowerCase();
    const ip = source.ip ?? 'unknown';
    const { delayMs } = await throttle.beforeAttempt(accountKey, ip);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));

    const user = await users.findByUsername(input.username);
    const passwordOk = user
      ? await verifyPassword(user.password_hash, input.password)
      : await verifyAgainstDummy(input.password);
    if (!user || !passwordOk) {
      await throttle.recordFailure(accountKey, ip);
      await audit.record('login_failed', source, {
        targetId: user?.id ?? null,
        details: { username: input.username.slice(0, 64) },
      });
      throw invalidCredentials();
    }
    if (user.suspended_at !== null) throw new AppError('account_suspended', 'This account is suspended');
    if (user.totp_enabled_at !== null) {
      if (!input.totp_code)
        throw new AppError('totp_required', 'Enter the code from your authenticator app or a backup code');
      try {
        await this.deps.secondFactor.verify(user, input.totp_code, source);
      } catch (err) {
        await throttle.recordFailure(accountKey, ip);
        await audit.record('login_failed', source, { targetId: user.id, details: { reason: 'totp' } });
        throw err;
      }
    }
    await throttle.recordSuccess(accountKey, ip);
    const deviceName = input.device_name ?? deviceNameFromUserAgent(source.userAgent);
    const { sessionId, tokens } = await this.deps.sessions.create(user.id, source, deviceName);
    await audit.record('login_ok', source, { actorId: user.id, details: { session_id: sessionId } });
    return { user, tokens };
  }

  /**
   * Resets a forgotten password with the recovery code (plus a 2FA code when 2FA is on), signs
   * out every session and returns a new recovery code.
   */
  async recover(
    input: { username: string; recovery_code: string; new_password: string; totp_code?: string | undefined },
    source: AuditSource,
  ): Promise<string> {
    const { users, throttle, audit } = this.deps;
    const accountKey = input.username.toLowerCase();
    const ip = source.ip ?? 'unknown';
    // The same throttle as sign-in: a recovery code is a credential too.
    const { delayMs } = await throttle.beforeAttempt(accountKey, ip);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const user = await users.findByUsername(input.username);
    const normalized = normalizeCode(input.recovery_code);
    const presented = normalized?.length === RECOVERY_CODE_LENGTH ? hashCode(this.deps.pepper, normalized) : '';
    if (!user || !codesEqual(presented, user.recovery_code_hash)) {
      await throttle.recordFailure(accountKey, ip);
      await audit.record('login_failed', source, {
        targetId: user?.id ?? null,
        details: { username: input.username.slice(0, 64), reason: 'recovery_code' },
      });
      throw new AppError('invalid_credentials', 'Wrong username or recovery code');
    }
    if (user.totp_enabled_at !== null) {
      if (!input.totp_code) throw new AppError('totp_required', 'Two-factor authentication is on: enter a code too');
      try {
        await this.deps.secondFactor.verify(user, input.totp_code, source);
      } catch (err) {
        await throttle.recordFailure(accountKey, ip);
        await audit.record('login_failed', source, { targetId: user.id, details: { reason: 'recovery_totp' } });
        throw err;
      }
    }
    assertAcceptablePassword(input.new_password, user.username);
    const recoveryCode = generateRecoveryCode();
    await users.update(user.id, {
      password_hash: await hashPassword(input.new_password),
      recovery_code_hash: hashCode(this.deps.pepper, normalizeCode(recoveryCode)!),
      updated_at: this.now(),
    });
    await this.deps.sessions.revokeAll(user.id, 'recovery');
    await throttle.recordSuccess(accountKey, ip);
    await audit.record('recovery_used', source, { actorId: user.id });
    return recoveryCode;
  }

  /** Changes the password after checking the current one; signs out the other sessions. */
  async changePassword(
    actor: { userId: string; sessionId: string },
    current: string,
    next: string,
    source: AuditSource,
  ) {
    const user = await this.requireUser(actor.userId);
    await this.requirePassword(user, current);
    assertAcceptablePassword(next, user.username);
    await this.deps.users.update(user.id, { password_hash: await hashPassword(next), updated_at: this.now() });
    const revoked = await this.deps.sessions.revokeAll(user.id, 'password_changed', actor.sessionId);
    await this.deps.audit.record('password_changed', source, {
      actorId: user.id,
      details: { sessions_revoked: revoked },
    });
  }

  async regenerateRecoveryCode(userId: string, password: string, source: AuditSource): Promise<string> {
    const user = await this.requireUser(userId);
    await this.requirePassword(user, password);
    const code = generateRecoveryCode();
    await this.deps.users.update(user.id, {
      recovery_code_hash: hashCode(this.deps.pepper, normalizeCode(code)!),
      updated_at: this.now(),
    });
    await this.deps.audit.record('recovery_code_regenerated', source, { actorId: user.id });
    return code;
  }

  /** Deletes the account after password (+2FA); the instance owner must stay. */
  async deleteAccount(userId: string, password: string, totpCode: string | undefined, source: AuditSource) {
    const user = await this.requireUser(userId);
    await this.requirePassword(user, password);
    if (user.totp_enabled_at !== null) {
      if (!totpCode) throw new AppError('totp_required', 'Two-factor authentication is on: enter a code too');
      await this.deps.secondFactor.verify(user, totpCode, source);
    }
    if (user.instance_role === 'owner') throw forbidden('The instance owner cannot delete their account');
    const owned = await this.deps.db.selectFrom('communities').select('name').where('owner_id', '=', user.id).execute();
    if (owned.length > 0) {
      throw new AppError(
        'conflict',
        `Transfer or delete the communities you own first: ${owned.map((c) => c.name).join(', ')}`,
      );
    }
    await this.deps.sessions.revokeAll(user.id, 'account_deleted');
    await this.deps.users.delete(user.id);
    await this.deps.audit.record('account_deleted', source, {
      targetId: user.id,
      details: { username: user.username },
    });
  }

  async requireUser(userId: string): Promise<UserRow> {
    const user = await this.deps.users.findById(userId);
    if (!user) throw new AppError('session_revoked', 'This account no longer exists');
    return user;
  }

  /** `invalid_credentials` unless the password is the user's. */
  async requirePassword(user: UserRow, password: string): Promise<void> {
    if (!(await verifyPassword(user.password_hash, password))) {
      throw new AppError('invalid_credentials', 'The password is not correct');
    }
  }
}

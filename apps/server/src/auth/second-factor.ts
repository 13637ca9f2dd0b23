import type { Kysely } from 'kysely';
import type { AuditLog, AuditSource } from '../audit/audit-log.js';
import type { DB } from '../db/schema.js';
import { AppError, badRequest } from '../errors.js';
import type { UserRow } from '../users/repo.js';
import { BACKUP_CODE_LENGTH, generateBackupCodes, hashCode, normalizeCode } from './codes.js';
import { openSecret, sealSecret } from './secret-box.js';
import { createTotpSecret, matchTotp, totpUri } from './totp.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const totpContext = (userId: string) => `totp:${userId}`;

/**
 * TOTP two-factor authentication and its backup codes. Secrets are sealed at rest with the
 * TOTP encryption key; each TOTP time step is accepted once per user, and each backup code
 * once, with conditional updates that also hold under concurrent requests.
 */
export class SecondFactor {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly key: Uint8Array,
    private readonly audit: AuditLog,
    private readonly now: () => number = Date.now,
  ) {}

  /** Checks a TOTP or backup code for a user who has 2FA on; `invalid_totp` when wrong. */
  async verify(user: UserRow, code: string, source: AuditSource): Promise<'totp' | 'backup'> {
    if (user.totp_secret && (await this.acceptTotp(user.id, user.totp_secret, code, user.totp_last_step))) {
      await this.audit.record('totp_used', source, { actorId: user.id });
      return 'totp';
    }
    if (await this.acceptBackupCode(user.id, code)) {
      await this.audit.record('backup_code_used', source, { actorId: user.id });
      return 'backup';
    }
    throw new AppError('invalid_totp', 'The two-factor code is not valid');
  }

  /** Starts setup: a new secret kept pending until a code from it is confirmed. */
  async beginSetup(user: UserRow): Promise<{ secret: string; otpauth_url: string }> {
    if (user.totp_enabled_at !== null) throw badRequest('Two-factor authentication is already on');
    const secret = createTotpSecret();
    await this.db
      .updateTable('users')
      .set({
        totp_pending_secret: sealSecret(this.key, encoder.encode(secret), totpContext(user.id)),
        updated_at: this.now(),
      })
      .where('id', '=', user.id)
      .execute();
    return { secret, otpauth_url: totpUri(secret, user.username) };
  }

  /** Confirms setup with a current code; turns 2FA on and returns fresh backup codes. */
  async enable(user: UserRow, code: string, source: AuditSource): Promise<string[]> {
    if (user.totp_enabled_at !== null) throw badRequest('Two-factor authentication is already on');
    if (!user.totp_pending_secret) throw badRequest('Start two-factor setup first');
    const secret = decoder.decode(openSecret(this.key, user.totp_pending_secret, totpContext(user.id)));
    const step = matchTotp(secret, code, this.now(), null);
    if (step === null) throw new AppError('invalid_totp', 'The code does not match; check the time on your device');
    await this.db
      .updateTable('users')
      .set({
        totp_secret: user.totp_pending_secret,
        totp_pending_secret: null,
        totp_enabled_at: this.now(),
        totp_last_step: step,
        updated_at: this.now(),
      })
      .where('id', '=', user.id)
      .execute();
    const codes = await this.replaceBackupCodes(user.id);
    await this.audit.record('totp_enabled', source, { actorId: user.id });
    return codes;
  }

  async disable(user: UserRow, source: AuditSource): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({
          totp_secret: null,
          totp_pending_secret: null,
          totp_enabled_at: null,
          totp_last_step: null,
          updated_at: this.now(),
        })
        .where('id', '=', user.id)
        .execute();
      await trx.deleteFrom('backup_codes').where('user_id', '=', user.id).execute();
    });
    await this.audit.record('totp_disabled', source, { actorId: user.id });
  }

  /** Replaces every backup code of the user with 8 new ones (shown once). */
  async replaceBackupCodes(userId: string): Promise<string[]> {
    const codes = generateBackupCodes();
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('backup_codes').where('user_id', '=', userId).execute();
      await trx
        .insertInto('backup_codes')
        .values(
          codes.map((c) => ({ user_id: userId, code_hash: hashCode(this.key, normalizeCode(c)!), used_at: null })),
        )
        .execute();
    });
    return codes;
  }

  private async acceptTotp(userId: string, sealed: string, code: string, lastStep: number | null): Promise<boolean> {
    const secret = decoder.decode(openSecret(this.key, sealed, totpContext(userId)));
    const step = matchTotp(secret, code, this.now(), lastStep);
    if (step === null) return false;
    // Replay guard: the step must be newer than the last accepted one, checked in the update.
    const result = await this.db
      .updateTable('users')
      .set({ totp_last_step: step })
      .where('id', '=', userId)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  private async acceptBackupCode(userId: string, code: string): Promise<boolean> {
    const normalized = normalizeCode(code);
    if (normalized === null || normalized.length !== BACKUP_CODE_LENGTH) return false;
    const result = await this.db
      .updateTable('backup_codes')
      .set({ used_at: this.now() })
      .where('user_id', '=', userId)
      .where('code_hash', '=', hashCode(this.key, normalized))
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

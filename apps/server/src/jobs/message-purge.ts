import { MESSAGE_LIMITS } from '@chatalot/protocol';
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { runPeriodically } from './periodic.js';

/** How often the purge runs: disappearing messages are already hidden from history meanwhile. */
export const MESSAGE_PURGE_INTERVAL_MS = 10 * 60 * 1000;
const BATCH = 500;

/**
 * Hard-deletes messages soft-deleted more than 30 days ago and disappearing messages whose
 * time has come (their versions and reactions go with them, by cascade), in batches so no
 * single statement holds locks for long. Returns how many were removed.
 *
 * Safe to run from several processes at once: each batch is deleted by id with the condition
 * checked again, so a row another process removed first simply counts for nobody twice.
 */
export async function purgeMessages(db: Kysely<DB>, options: { now: number; batchSize?: number }): Promise<number> {
  const batchSize = options.batchSize ?? BATCH;
  const deletedBefore = options.now - MESSAGE_LIMITS.purgeAfterMs;
  const due = (eb: ExpressionBuilder<DB, 'messages'>) =>
    eb.or([eb('deleted_at', '<', deletedBefore), eb('expires_at', '<=', options.now)]);
  let purged = 0;
  for (;;) {
    const batch = await db.selectFrom('messages').select('id').where(due).orderBy('id').limit(batchSize).execute();
    if (batch.length === 0) break;
    const result = await db
      .deleteFrom('messages')
      .where(
        'id',
        'in',
        batch.map((m) => m.id),
      )
      .where(due)
      .executeTakeFirst();
    purged += Number(result.numDeletedRows);
    if (batch.length < batchSize) break;
  }
  return purged;
}

/** Starts the purge now and every 10 minutes; returns the stop function. */
export function startMessagePurge(
  db: Kysely<DB>,
  onError: (err: unknown) => void,
  now: () => number = Date.now,
): () => Promise<void> {
  return runPeriodically(
    async () => void (await purgeMessages(db, { now: now() })),
    MESSAGE_PURGE_INTERVAL_MS,
    onError,
  );
}

// Writes a channel's history straight into a Chatalot database, in the server's own tables
// (apps/server/src/db/migrations/0005-messages.ts), much faster than sending it: a million
// messages in seconds. Bodies are random base64 like E2E ciphertext; every tenth message has
// one reaction (and a reaction_count of 1, as the server keeps it), so history pages carry
// some. `channels.last_seq` is moved to the top, as the send path would have left it.
import { randomBytes, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DatabaseLocation } from '../targets/target.js';

export interface SeedPlan {
  channelId: string;
  /** The author of every message (and of the reactions): a member of the channel. */
  senderId: string;
  count: number;
}

const BODIES = Array.from({ length: 64 }, () => randomBytes(200 + Math.floor(Math.random() * 401)).toString('base64'));
const CHUNK = 50_000;
const REACTION_EVERY = 10;

export async function seedHistory(database: DatabaseLocation, plan: SeedPlan): Promise<void> {
  if (database.kind === 'sqlite') seedSqlite(database.file, plan);
  else await seedPostgres(database.url, plan);
}

function seedSqlite(file: string, plan: SeedPlan): void {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 10000');
    // This connection only: a big page cache for the random-key indexes, and no fsync per chunk
    // (a seed lost to a power cut is simply seeded again).
    db.pragma('cache_size = -262144');
    db.pragma('synchronous = OFF');
    const message = db.prepare(
      `INSERT INTO messages (id, channel_id, seq, sender_id, nonce, ciphertext, scheme, distribution_id, device_id,
         reply_to, thread_root, forwarded_from, mentions, mention_everyone, created_at, reaction_count)
       VALUES (?, ?, ?, ?, ?, ?, 'sender_key', 'bench-chain', 1, NULL, NULL, NULL, '[]', 0, ?, ?)`,
    );
    const reaction = db.prepare(
      `INSERT INTO message_reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, '👍', ?)`,
    );
    const start = Date.now() - plan.count * 1000;
    const chunk = db.transaction((from: number, to: number) => {
      for (let seq = from; seq <= to; seq++) {
        const id = randomUUID();
        const at = start + seq * 1000;
        const reacted = seq % REACTION_EVERY === 0;
        message.run(
          id,
          plan.channelId,
          seq,
          plan.senderId,
          `history-${seq}`,
          BODIES[seq % BODIES.length]!,
          at,
          +reacted,
        );
        if (reacted) reaction.run(id, plan.senderId, at);
      }
    });
    // Chunks, so the server's own writes (sessions, presence) wait at most one chunk.
    for (let from = 1; from <= plan.count; from += CHUNK) chunk(from, Math.min(plan.count, from + CHUNK - 1));
    db.prepare('UPDATE channels SET last_seq = ? WHERE id = ?').run(plan.count, plan.channelId);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/** PostgreSQL backends are not pinned: two sessions insert chunks side by side. */
const PG_SESSIONS = 2;

async function seedPostgres(url: string, plan: SeedPlan): Promise<void> {
  const clients = Array.from({ length: PG_SESSIONS }, () => new pg.Client({ connectionString: url }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const start = Date.now() - plan.count * 1000;
    let next = 1;
    await Promise.all(
      clients.map(async (client) => {
        // This session only: commits do not wait for the WAL flush (a lost seed is seeded again).
        await client.query('SET synchronous_commit TO off');
        while (next <= plan.count) {
          const from = next;
          const to = Math.min(plan.count, from + CHUNK - 1);
          next = to + 1;
          await insertChunk(client, plan, start, from, to);
        }
      }),
    );
    const client = clients[0]!;
    await client.query('UPDATE channels SET last_seq = $1 WHERE id = $2', [plan.count, plan.channelId]);
    // Statistics as autovacuum would soon have them, so the plan is the one production gets.
    await client.query('ANALYZE messages');
    await client.query('ANALYZE message_reactions');
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

async function insertChunk(client: pg.Client, plan: SeedPlan, start: number, from: number, to: number): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(
      `INSERT INTO messages (id, channel_id, seq, sender_id, nonce, ciphertext, scheme, distribution_id, device_id,
         mentions, mention_everyone, created_at, reaction_count)
       SELECT gen_random_uuid()::text, $1, g, $2, 'history-' || g, ($3::text[])[1 + g % $4], 'sender_key',
         'bench-chain', 1, '[]', 0, $5::bigint + g * 1000, CASE WHEN g % ${REACTION_EVERY} = 0 THEN 1 ELSE 0 END
       FROM generate_series($6::bigint, $7::bigint) AS g`,
      [plan.channelId, plan.senderId, BODIES, BODIES.length, start, from, to],
    );
    await client.query(
      `INSERT INTO message_reactions (message_id, user_id, emoji, created_at)
       SELECT id, $2, '👍', created_at FROM messages
       WHERE channel_id = $1 AND seq BETWEEN $3 AND $4 AND seq % ${REACTION_EVERY} = 0`,
      [plan.channelId, plan.senderId, from, to],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

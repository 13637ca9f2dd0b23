import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, type Dialect, openDatabase } from '../src/db/database.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../src/test-support/test-db.js';
import type { TestSocket } from '../src/test-support/ws-client.js';
import {
  type AckData,
  buildChatWorld,
  type ChatWorld,
  connect,
  dumpOutputs,
  MessageSender,
  type ServerProcess,
  startServerProcess,
  stopAll,
} from './real-server.js';

/**
 * Crash durability of the real server process: 4 users × 5 sockets × 50 sends = 1,000
 * concurrent sends with unique nonces into one channel; the process is SIGKILLed once 300 acks
 * have arrived, restarted on the same database, and the clients resend what was not
 * acknowledged (each unacknowledged nonce from two sockets of its sender at once).
 */
const USERS = ['ana', 'ben', 'cho', 'dev'];
const SOCKETS_PER_USER = 5;
const SENDS_PER_SOCKET = 50;
const TOTAL = USERS.length * SOCKETS_PER_USER * SENDS_PER_SOCKET;
const KILL_AFTER_ACKS = 300;

interface Row {
  id: string;
  nonce: string;
  seq: number;
  sender_id: string | null;
}

async function channelRows(database: Database, channelId: string): Promise<Row[]> {
  const rows = await database.db
    .selectFrom('messages')
    .select(['id', 'nonce', 'seq', 'sender_id'])
    .where('channel_id', '=', channelId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

async function lastSeq(database: Database, channelId: string): Promise<number> {
  const row = await database.db
    .selectFrom('channels')
    .select('last_seq')
    .where('id', '=', channelId)
    .executeTakeFirstOrThrow();
  return Number(row.last_seq);
}

/** Gap-free 1..N, each seq once, each nonce once. */
function expectConsistent(rows: Row[]): void {
  expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
  expect(new Set(rows.map((r) => r.nonce)).size).toBe(rows.length);
  expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
}

describe.each(DIALECTS)('a SIGKILLed server process on %s', (dialect: Dialect) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chatalot-durability-'));
  let pg: TestDatabase | undefined;
  const sockets: TestSocket[] = [];

  beforeEach(({ onTestFailed }) => onTestFailed(() => dumpOutputs()));
  afterAll(async () => {
    for (const s of sockets) s.close();
    await stopAll();
    await pg?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The database the server uses, opened from the test (only while it matters). */
  const withDatabase = async <T>(use: (database: Database) => Promise<T>): Promise<T> => {
    if (pg) return use(pg.database);
    const database = openDatabase({ kind: 'sqlite', path: path.join(dataDir, 'chatalot.db') });
    try {
      return await use(database);
    } finally {
      await database.close();
    }
  };

  it('keeps every acknowledged message exactly once, gap-free, and never duplicates a resent nonce', async () => {
    const env: Record<string, string> = { DATA_DIR: dataDir };
    if (dialect === 'postgres') {
      pg = await createTestDatabase('postgres', { migrate: false });
      if (pg.config.kind === 'postgres') env.DATABASE_URL = pg.config.url;
    }

    // ---- Phase 1: 1,000 concurrent sends, SIGKILL after 300 acks.
    const first: ServerProcess = await startServerProcess(`${dialect}-1`, env);
    const world: ChatWorld = await buildChatWorld(first, USERS);
    const { channelId } = world;
    const senderOf = new Map<string, string>();
    const noncesOf = new Map<string, string[]>();
    for (const [u, name] of USERS.entries()) {
      const nonces: string[] = [];
      for (let s = 0; s < SOCKETS_PER_USER; s++) {
        for (let k = 0; k < SENDS_PER_SOCKET; k++) {
          const nonce = `dur-${dialect}-${u}-${s}-${k}-${Math.random().toString(36).slice(2, 10)}`;
          nonces.push(nonce);
          senderOf.set(nonce, world.members[name]!.id);
        }
      }
      noncesOf.set(name, nonces);
    }
    expect(senderOf.size).toBe(TOTAL);

    const open = async (server: ServerProcess) => {
      const senders = new Map<string, MessageSender[]>();
      for (const name of USERS) {
        const list: MessageSender[] = [];
        for (let s = 0; s < SOCKETS_PER_USER; s++) {
          const socket = await connect(server, world.members[name]!);
          sockets.push(socket);
          list.push(new MessageSender(socket, channelId));
        }
        senders.set(name, list);
      }
      return senders;
    };

    const acked = new Map<string, AckData>();
    const refusals: unknown[] = [];
    let killed = false;
    const firstSenders = await open(first);
    await Promise.all(
      USERS.flatMap((name) =>
        firstSenders.get(name)!.map(async (sender, s) => {
          const mine = noncesOf.get(name)!.slice(s * SENDS_PER_SOCKET, (s + 1) * SENDS_PER_SOCKET);
          await Promise.all(
            mine.map(async (nonce) => {
              const answer = await sender.send(nonce);
              if (answer?.type === 'ack') {
                acked.set(nonce, answer.data as AckData);
                if (!killed && acked.size >= KILL_AFTER_ACKS) {
                  killed = true;
                  first.child.kill('SIGKILL');
                }
              } else if (answer && answer.code !== 'rate_limited') {
                refusals.push(answer);
              }
            }),
          );
        }),
      ),
    );
    expect(killed).toBe(true);
    expect(await first.exited).toBe('SIGKILL');
    expect(refusals).toEqual([]);
    const ackedBeforeKill = new Map(acked);
    expect(ackedBeforeKill.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(ackedBeforeKill.size).toBeLessThan(TOTAL);
    for (const [nonce, ack] of ackedBeforeKill) expect(ack.nonce).toBe(nonce);

    // ---- Between: what survived the kill, read straight from the database.
    const survived = await withDatabase(async (database) => {
      const rows = await channelRows(database, channelId);
      expectConsistent(rows);
      expect(await lastSeq(database, channelId)).toBe(rows.length);
      return new Map(rows.map((r) => [r.nonce, r]));
    });
    for (const [nonce, ack] of ackedBeforeKill) {
      expect(survived.get(nonce), `acknowledged ${nonce} lost`).toMatchObject({ id: ack.id, seq: ack.seq });
      expect(survived.get(nonce)!.sender_id).toBe(senderOf.get(nonce));
    }
    for (const nonce of survived.keys()) expect(senderOf.has(nonce)).toBe(true);

    // ---- Phase 2: restart on the same database; resend every unacknowledged nonce from two
    // sockets of its sender at once, and a few acknowledged ones.
    const second = await startServerProcess(`${dialect}-2`, env);
    const secondSenders = await open(second);
    const answers: { nonce: string; frame: Awaited<ReturnType<MessageSender['send']>> }[] = [];
    await Promise.all(
      USERS.map(async (name) => {
        const list = secondSenders.get(name)!;
        const pending = noncesOf.get(name)!.filter((n) => !ackedBeforeKill.has(n));
        const again = noncesOf
          .get(name)!
          .filter((n) => ackedBeforeKill.has(n))
          .slice(0, 5);
        await Promise.all([
          ...pending.flatMap((nonce, i) =>
            [list[i % list.length]!, list[(i + 1) % list.length]!].map(async (sender) => {
              answers.push({ nonce, frame: await sender.sendUntilAnswered(nonce) });
            }),
          ),
          ...again.map(async (nonce, i) => {
            answers.push({ nonce, frame: await list[i % list.length]!.sendUntilAnswered(nonce) });
          }),
        ]);
      }),
    );

    const finalAck = new Map(ackedBeforeKill);
    let reusedExisting = 0;
    let created = 0;
    for (const { nonce, frame } of answers) {
      expect(frame, `no answer for ${nonce}`).not.toBeNull();
      expect(frame).toMatchObject({ type: 'ack', op: 'message.send' });
      const ack = frame!.data as AckData;
      expect(ack.nonce).toBe(nonce);
      const before = finalAck.get(nonce);
      if (before) {
        // Both resends of one nonce, and resends of acknowledged ones, name the same message.
        expect({ id: ack.id, seq: ack.seq }).toEqual({ id: before.id, seq: before.seq });
        continue;
      }
      const existing = survived.get(nonce);
      if (existing) {
        expect({ id: ack.id, seq: ack.seq }).toEqual({ id: existing.id, seq: existing.seq });
        reusedExisting++;
      } else {
        expect(ack.seq).toBeGreaterThan(survived.size);
        created++;
      }
      finalAck.set(nonce, ack);
    }
    expect(finalAck.size).toBe(TOTAL);
    expect(reusedExisting + created + ackedBeforeKill.size).toBe(TOTAL);
    expect(reusedExisting).toBe(survived.size - ackedBeforeKill.size);

    // ---- Finally: one row per nonce, each acknowledged id present once, seqs 1..1000.
    await withDatabase(async (database) => {
      const rows = await channelRows(database, channelId);
      expect(rows).toHaveLength(TOTAL);
      expectConsistent(rows);
      expect(await lastSeq(database, channelId)).toBe(TOTAL);
      const byNonce = new Map(rows.map((r) => [r.nonce, r]));
      for (const [nonce, ack] of finalAck) {
        expect(byNonce.get(nonce)).toMatchObject({ id: ack.id, seq: ack.seq, sender_id: senderOf.get(nonce) });
      }
    });
    console.log(
      `[${dialect}] acked before SIGKILL: ${ackedBeforeKill.size}; committed but unacked: ${reusedExisting}; ` +
        `committed after restart: ${created}`,
    );
  }, 80_000);
});

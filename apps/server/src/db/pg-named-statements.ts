import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import { preparedStatementName } from './prepared.js';

/**
 * PostgreSQL parses and plans every unnamed query afresh. For the hot queries (db/prepared.ts)
 * planning cost more than running them: EXPLAIN ANALYZE of a history page on 100k messages
 * showed 0.1–3 ms of planning for 0.1 ms of execution, and the permission-facts query joins six
 * tables. Those queries go out as named statements instead, which each connection parses once
 * and, after a few runs, executes with a cached generic plan. Every other query stays unnamed:
 * only the prepared queries' SQL texts are a bounded set.
 */
export function namingPreparedStatements(pool: pg.Pool): PostgresPool {
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => ({
    query: ((textOrCursor: unknown, parameters?: readonly unknown[]) => {
      const name = typeof textOrCursor === 'string' ? preparedStatementName(textOrCursor) : undefined;
      if (name === undefined) return client.query(textOrCursor as never, parameters as unknown[] | undefined);
      return client.query({ name, text: textOrCursor as string, values: parameters as unknown[] });
    }) as unknown as PostgresPoolClient['query'],
    release: (destroy) => client.release(destroy),
  });
  return {
    connect: async () => {
      const client = await pool.connect();
      // Kysely keeps its connection state per client object: hand out the same wrapper each time.
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        wrapper = wrap(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}

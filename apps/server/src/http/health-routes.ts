import { HealthResponse } from '@chatalot/protocol';
import type { Broker } from '../broker/broker.js';
import type { Database } from '../db/database.js';
import { addRoute, type RouteContext } from './route.js';

export interface HealthDeps {
  database: Database;
  broker: Broker;
  version: string;
  startedAt: number;
}

/** `GET /api/health`: 200 when the database and the broker answer, 503 otherwise. */
export function registerHealthRoutes(ctx: RouteContext, deps: HealthDeps): void {
  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/health',
      summary: 'Instance health: version, uptime, database and broker reachability',
      tags: ['operations'],
      response: HealthResponse,
      errors: [503],
    },
    async ({ reply }): Promise<HealthResponse> => {
      const [dbOk, brokerOk] = await Promise.all([deps.database.ping(), deps.broker.ping().catch(() => false)]);
      const healthy = dbOk && brokerOk;
      reply.header('cache-control', 'no-store');
      if (!healthy) reply.status(503);
      return {
        status: healthy ? 'ok' : 'degraded',
        version: deps.version,
        uptime_secs: Math.floor((Date.now() - deps.startedAt) / 1000),
        db: dbOk ? 'ok' : 'down',
        broker: brokerOk ? 'ok' : 'down',
      };
    },
  );
}

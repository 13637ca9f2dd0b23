import { z } from 'zod';

/** Health of one dependency. */
export const DependencyHealth = z.enum(['ok', 'down']);

/** `GET /api/health`. Answered with 503 when the database is down. */
export const HealthResponse = z
  .object({
    status: z.enum(['ok', 'degraded']).describe('`ok` when every dependency answers.'),
    version: z.string().describe('Server version.'),
    uptime_secs: z.number().int().nonnegative().describe('Seconds since this process started.'),
    db: DependencyHealth.describe('Database reachability.'),
    broker: DependencyHealth.describe('Message broker (in-process or Redis) reachability.'),
  })
  .meta({ id: 'HealthResponse', description: 'Instance health.' });

export type HealthResponse = z.infer<typeof HealthResponse>;

/**
 * Which external services the tests may use. A suite that needs PostgreSQL or Redis runs
 * when its URL is set and is skipped otherwise, unless CHATALOT_REQUIRE_SERVICES=1 (as in
 * CI), where a missing service fails the run instead of hiding behind a skip.
 */
const required = process.env.CHATALOT_REQUIRE_SERVICES === '1';

function service(name: string, variable: string): string | undefined {
  const value = process.env[variable]?.trim() || undefined;
  if (!value && required) {
    throw new Error(`${name} is required (CHATALOT_REQUIRE_SERVICES=1) but ${variable} is not set`);
  }
  return value;
}

/** PostgreSQL server URL for tests (each test file creates its own database on it). */
export const TEST_DATABASE_URL = service('PostgreSQL', 'TEST_DATABASE_URL');
/** Redis URL for scale-out tests. */
export const TEST_REDIS_URL = service('Redis', 'TEST_REDIS_URL');

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HealthResponse } from '@chatalot/protocol';
import { type RunningServer, runUntilExit, startServer } from './start-process.js';
import { DIALECTS, createTestDatabase } from '../src/test-support/test-db.js';

const SECRET_FILES = ['jwt_private.pem', 'jwt_public.pem', 'totp_encryption_key', 'vapid_keys.json'];

function fingerprint(secretsDir: string): Record<string, string> {
  return Object.fromEntries(
    SECRET_FILES.map((f) => [
      f,
      createHash('sha256')
        .update(readFileSync(path.join(secretsDir, f)))
        .digest('hex'),
    ]),
  );
}

async function get(server: RunningServer, pathname: string) {
  const res = await fetch(new URL(pathname, server.url));
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe.each(DIALECTS)('npm start on a fresh data directory (%s)', (dialect) => {
  it('serves health and the web app, keeps its secrets private, and reuses them after a restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'chatalot-smoke-'));
    const db = dialect === 'postgres' ? await createTestDatabase('postgres', { migrate: false }) : undefined;
    const env: Record<string, string> = { DATA_DIR: dataDir };
    if (db && db.config.kind === 'postgres') env.DATABASE_URL = db.config.url;

    try {
      const first = await startServer(env);
      try {
        expect(first.output()).toContain('First start');
        expect(first.output()).toMatch(/first account .*needs no invite|needs no invite/s);

        const health = await get(first, '/api/health');
        expect(health.status).toBe(200);
        expect(HealthResponse.parse(JSON.parse(health.body))).toMatchObject({ status: 'ok', db: 'ok', broker: 'ok' });

        const home = await get(first, '/');
        expect(home.status).toBe(200);
        expect(home.type).toMatch(/^text\/html/);
        expect(home.body).toContain('/_app/immutable/');
        const route = await get(first, '/some/client/route');
        expect(route.status).toBe(200);
        expect(route.body).toBe(home.body);
        const api404 = await get(first, '/api/definitely-not-here');
        expect(api404.status).toBe(404);
        expect(JSON.parse(api404.body).error.code).toBe('not_found');
      } finally {
        expect(await first.stop()).toBe(0);
      }

      const secretsDir = path.join(dataDir, 'secrets');
      expect(readdirSync(secretsDir).sort()).toEqual([...SECRET_FILES].sort());
      for (const file of SECRET_FILES) expect(statSync(path.join(secretsDir, file)).mode & 0o777, file).toBe(0o600);
      if (dialect === 'sqlite') expect(statSync(path.join(dataDir, 'chatalot.db')).isFile()).toBe(true);
      const before = fingerprint(secretsDir);

      const second = await startServer(env);
      try {
        expect(second.output()).not.toContain('First start');
        expect((await get(second, '/api/health')).status).toBe(200);
      } finally {
        expect(await second.stop()).toBe(0);
      }
      expect(fingerprint(secretsDir)).toEqual(before);
    } finally {
      await db?.drop();
    }
  });
});

describe('npm start with a bad configuration', () => {
  it('stops with exit code 78 and says how to fix the TOTP key', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'chatalot-bad-'));
    const { code, output } = await runUntilExit({ DATA_DIR: dataDir, TOTP_ENCRYPTION_KEY: 'not-hex' });
    expect(code).toBe(78);
    expect(output).toContain('TOTP_ENCRYPTION_KEY must be exactly 64 hexadecimal characters');
    expect(output).toContain('openssl rand -hex 32');
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('stops with exit code 78 on an unparsable DATABASE_URL', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'chatalot-bad-'));
    const { code, output } = await runUntilExit({ DATA_DIR: dataDir, DATABASE_URL: 'mysql://root@localhost/chat' });
    expect(code).toBe(78);
    expect(output).toContain('DATABASE_URL must start with postgres://');
  });

  it('stops with exit code 1 and a clear message when PostgreSQL cannot be reached', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'chatalot-bad-'));
    const { code, output } = await runUntilExit({
      DATA_DIR: dataDir,
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(code).toBe(1);
    expect(output).toMatch(/Chatalot failed to start: .*ECONNREFUSED/);
  });
});

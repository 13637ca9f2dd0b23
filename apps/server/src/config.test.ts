import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const dir = () => mkdtempSync(path.join(tmpdir(), 'chatalot-config-'));

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, dir());
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives a working SQLite instance on 0.0.0.0:8080 with nothing set', () => {
    const cwd = dir();
    const config = loadConfig({}, cwd);
    expect(config.database).toEqual({ kind: 'sqlite', path: path.join(cwd, 'data', 'chatalot.db') });
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.dataDir).toBe(path.join(cwd, 'data'));
    expect(config.secretsDir).toBe(path.join(cwd, 'data', 'secrets'));
    expect(config.jwt).toEqual({
      privateKeyPath: path.join(cwd, 'data', 'secrets', 'jwt_private.pem'),
      publicKeyPath: path.join(cwd, 'data', 'secrets', 'jwt_public.pem'),
      generated: true,
    });
    expect(config.registrationMode).toBe('invite_only');
    expect(config.communityCreationMode).toBe('admin_only');
    expect(config.fileStoragePath).toBe(path.join(cwd, 'data', 'files'));
    expect(config.maxFileSizeBytes).toBe(100 * 1024 * 1024);
    expect(config.uploadQuotaBytes).toBe(500 * 1024 * 1024);
    expect(config.trustedProxies).toEqual(['127.0.0.1', '::1']);
    expect(config.redisUrl).toBeUndefined();
    expect(config.gif).toBeUndefined();
    expect(config.iceServers).toEqual([]);
    expect(config.logLevel).toBe('info');
    expect(config.maxSocketsPerUser).toBe(8);
  });

  it('reads every documented variable', () => {
    const config = loadConfig(
      {
        DATABASE_URL: 'postgres://chatalot:pw@db:5432/chatalot',
        REDIS_URL: 'redis://redis:6379',
        LISTEN_ADDR: '[::]:9000',
        PUBLIC_URL: 'https://chat.example.org/',
        DATA_DIR: '/srv/chatalot',
        JWT_PRIVATE_KEY_PATH: '/keys/priv.pem',
        JWT_PUBLIC_KEY_PATH: '/keys/pub.pem',
        TOTP_ENCRYPTION_KEY: 'AB'.repeat(32),
        REGISTRATION_MODE: 'open',
        COMMUNITY_CREATION_MODE: 'open',
        ADMIN_USERNAME: 'alice',
        FILE_STORAGE_PATH: '/blobs',
        MAX_FILE_SIZE_MB: '0',
        UPLOAD_QUOTA_MB: '2048',
        VAPID_PUBLIC_KEY: 'B'.repeat(87),
        VAPID_PRIVATE_KEY: 'c'.repeat(43),
        ICE_SERVERS: 'stun:stun.example.org:3478, turn:turn.example.org:3478',
        TURN_SECRET: 'a-long-turn-secret-value',
        GIF_PROVIDER: 'tenor',
        GIF_API_KEY: 'key',
        TRUSTED_PROXIES: '10.0.0.0/8,192.168.1.1',
        LOG_LEVEL: 'warn',
      },
      dir(),
    );
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://chatalot:pw@db:5432/chatalot' });
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(config.listen).toEqual({ host: '::', port: 9000 });
    expect(config.publicUrl).toBe('https://chat.example.org');
    expect(config.dataDir).toBe('/srv/chatalot');
    expect(config.jwt).toEqual({ privateKeyPath: '/keys/priv.pem', publicKeyPath: '/keys/pub.pem', generated: false });
    expect(config.totpEncryptionKey).toBe('ab'.repeat(32));
    expect(config.registrationMode).toBe('open');
    expect(config.communityCreationMode).toBe('open');
    expect(config.adminUsername).toBe('alice');
    expect(config.fileStoragePath).toBe('/blobs');
    expect(config.maxFileSizeBytes).toBe(0);
    expect(config.uploadQuotaBytes).toBe(2048 * 1024 * 1024);
    expect(config.vapid).toEqual({ publicKey: 'B'.repeat(87), privateKey: 'c'.repeat(43) });
    expect(config.iceServers).toEqual(['stun:stun.example.org:3478', 'turn:turn.example.org:3478']);
    expect(config.gif).toEqual({ provider: 'tenor', apiKey: 'key', baseUrl: undefined });
    expect(config.trustedProxies).toEqual(['10.0.0.0/8', '192.168.1.1']);
    expect(config.logLevel).toBe('warn');
  });

  it('accepts sqlite: URLs relative to the working directory', () => {
    const cwd = dir();
    expect(loadConfig({ DATABASE_URL: 'sqlite:./db/x.db' }, cwd).database).toEqual({
      kind: 'sqlite',
      path: path.join(cwd, 'db', 'x.db'),
    });
  });

  it('reads .env, and the environment wins over it', () => {
    const cwd = dir();
    writeFileSync(path.join(cwd, '.env'), 'REGISTRATION_MODE=closed\nLOG_LEVEL=debug\n');
    const config = loadConfig({ LOG_LEVEL: 'error' }, cwd);
    expect(config.registrationMode).toBe('closed');
    expect(config.logLevel).toBe('error');
  });

  it('rejects a TOTP_ENCRYPTION_KEY that is not 64 hex characters, saying how to make one', () => {
    for (const bad of ['abc', 'g'.repeat(64), 'a'.repeat(63), 'a'.repeat(65)]) {
      const problems = problemsOf({ TOTP_ENCRYPTION_KEY: bad });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/TOTP_ENCRYPTION_KEY must be exactly 64 hexadecimal characters/);
      expect(problems[0]).toMatch(/openssl rand -hex 32/);
    }
  });

  it('rejects an unparsable DATABASE_URL', () => {
    expect(problemsOf({ DATABASE_URL: 'mysql://x@y/z' })[0]).toMatch(
      /DATABASE_URL must start with postgres:\/\/ .* or sqlite:/,
    );
    expect(problemsOf({ DATABASE_URL: 'postgres://' })[0]).toMatch(/not a valid PostgreSQL URL/);
    expect(problemsOf({ DATABASE_URL: 'sqlite:' })[0]).toMatch(/needs a file path/);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ LISTEN_ADDR: 'localhost', REGISTRATION_MODE: 'everyone', LOG_LEVEL: 'loud' });
    expect(problems.join('\n')).toMatch(/REGISTRATION_MODE must be one of: open, invite_only, closed/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL must be one of/);
  });

  it.each([
    [{ LISTEN_ADDR: 'localhost' }, /LISTEN_ADDR must be HOST:PORT/],
    [{ LISTEN_ADDR: '0.0.0.0:70000' }, /LISTEN_ADDR must be HOST:PORT/],
    [{ PUBLIC_URL: 'chat.example.org' }, /PUBLIC_URL must be the http\(s\) address/],
    [{ MAX_FILE_SIZE_MB: '-1' }, /MAX_FILE_SIZE_MB must be a whole number/],
    [{ UPLOAD_QUOTA_MB: '1.5' }, /UPLOAD_QUOTA_MB must be a whole number/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL must look like redis:\/\//],
    [{ JWT_PRIVATE_KEY_PATH: '/k.pem' }, /must be set together/],
    [{ VAPID_PUBLIC_KEY: 'B'.repeat(87) }, /must be set together/],
    [{ VAPID_PRIVATE_KEY: 'short' }, /VAPID_PRIVATE_KEY must be/],
    [{ GIF_PROVIDER: 'tenor' }, /needs GIF_API_KEY/],
    [{ GIF_PROVIDER: 'imgur', GIF_API_KEY: 'k' }, /GIF_PROVIDER must be tenor or giphy/],
    [{ TRUSTED_PROXIES: '10.0.0.0/40' }, /TRUSTED_PROXIES entry "10.0.0.0\/40"/],
    [{ TRUSTED_PROXIES: 'proxy.local' }, /is not an IP address or CIDR/],
    [{ ICE_SERVERS: 'http://stun.example.org' }, /ICE_SERVERS entry/],
    [{ TURN_SECRET: 'short' }, /TURN_SECRET must be at least 16 characters/],
    [{ ADMIN_USERNAME: '-x' }, /ADMIN_USERNAME must be a valid username/],
    [{ MAX_SOCKETS_PER_USER: '0' }, /MAX_SOCKETS_PER_USER must be a whole number from 1 to 64/],
  ])('rejects %o', (env, message) => {
    expect(problemsOf(env).join('\n')).toMatch(message);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.js';
import { REPO_ROOT } from './start-process.js';

interface Compose {
  services: Record<
    string,
    { image?: string; environment?: Record<string, string>; networks?: string[]; profiles?: string[] }
  >;
  networks: Record<string, { internal?: boolean } | null>;
}

const compose = parseYaml(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as Compose;

describe('docker-compose.yml', () => {
  it('sets only variables the server configuration knows', () => {
    const unknown = Object.keys(compose.services.chatalot!.environment ?? {}).filter(
      (v) => !CONFIG_VARIABLES.includes(v),
    );
    expect(unknown).toEqual([]);
  });

  it('runs PostgreSQL 17 on an internal network only', () => {
    const postgres = compose.services.postgres!;
    expect(postgres.image).toMatch(/^postgres:17/);
    expect(postgres.networks).toEqual(['internal']);
    expect(compose.networks.internal?.internal).toBe(true);
    expect(compose.services.chatalot!.environment!.DATABASE_URL).toMatch(
      /^postgres:\/\/chatalot:.*@postgres:5432\/chatalot$/,
    );
  });

  it('keeps Redis, TURN and the tunnel behind opt-in profiles', () => {
    expect(compose.services.redis!.profiles).toEqual(['scale-out']);
    expect(compose.services.coturn!.profiles).toEqual(['turn']);
    expect(compose.services.cloudflared!.profiles).toEqual(['tunnel']);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');

  it('builds on Node 24 and runs as a non-root user', () => {
    expect(dockerfile.match(/^FROM node:24\S*/gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('sets only variables the server configuration knows', () => {
    const envBlock = /^ENV ([\s\S]*?)(?:\n(?!\s))/m.exec(dockerfile)?.[1] ?? '';
    const names = [...envBlock.matchAll(/([A-Z_]+)=/g)].map((m) => m[1]!).filter((n) => n !== 'NODE_ENV');
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !CONFIG_VARIABLES.includes(n))).toEqual([]);
  });
});

describe('scripts/generate-secrets.sh', () => {
  it('writes a private .env whose values the server accepts, and never overwrites it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'chatalot-env-'));
    const file = path.join(dir, '.env');
    execFileSync(path.join(REPO_ROOT, 'scripts/generate-secrets.sh'), [file]);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const values = parseDotenv(readFileSync(file));
    expect(values.POSTGRES_PASSWORD).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const { POSTGRES_PASSWORD: _dbPassword, ...serverVars } = values;
    expect(Object.keys(serverVars).filter((v) => !CONFIG_VARIABLES.includes(v))).toEqual([]);
    const config = loadConfig({}, dir);
    expect(config.totpEncryptionKey).toBe(values.TOTP_ENCRYPTION_KEY);
    expect(config.vapid?.publicKey).toBe(values.VAPID_PUBLIC_KEY);
    expect(config.turnSecret).toBe(values.TURN_SECRET);

    expect(() =>
      execFileSync(path.join(REPO_ROOT, 'scripts/generate-secrets.sh'), [file], { stdio: 'pipe' }),
    ).toThrow();
    expect(parseDotenv(readFileSync(file))).toEqual(values);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';

/**
 * The server's configuration: every variable of PRODUCT.md §1, read once at start from the
 * environment and `.env` (the environment wins), validated, and passed down as one typed
 * object. Nothing else in the server reads `process.env`.
 */
export interface Config {
  database: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };
  redisUrl: string | undefined;
  listen: { host: string; port: number };
  publicUrl: string | undefined;
  dataDir: string;
  secretsDir: string;
  jwt: { privateKeyPath: string; publicKeyPath: string; generated: boolean };
  /** 32 bytes as 64 hex characters; undefined → generated into the secrets folder. */
  totpEncryptionKey: string | undefined;
  registrationMode: 'open' | 'invite_only' | 'closed';
  communityCreationMode: 'admin_only' | 'open';
  adminUsername: string | undefined;
  fileStoragePath: string;
  /** Bytes; 0 = unlimited. */
  maxFileSizeBytes: number;
  /** Bytes; 0 = unlimited. */
  uploadQuotaBytes: number;
  /** Both set, or both undefined (→ generated). */
  vapid: { publicKey: string; privateKey: string } | undefined;
  iceServers: string[];
  turnSecret: string | undefined;
  gif: { provider: 'tenor' | 'giphy'; apiKey: string; baseUrl: string | undefined } | undefined;
  trustedProxies: string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  maxSocketsPerUser: number;
  auditRetentionDays: number;
  /** Where the built web app lives (`apps/web/build`). */
  webDir: string;
}

/** Raised when the configuration is unusable; the message lists every problem and its fix. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const DEFAULT_WEB_DIR = path.resolve(import.meta.dirname, '../../web/build');

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const megabytes = (name: string, fallback: number) =>
  z
    .string()
    .trim()
    .default(String(fallback))
    .refine((v) => /^\d+$/.test(v), `${name} must be a whole number of megabytes (0 = unlimited), e.g. ${fallback}`)
    .transform((v) => Number(v) * 1024 * 1024);

const positiveInt = (name: string, fallback: number, max: number) =>
  z
    .string()
    .trim()
    .default(String(fallback))
    .refine(
      (v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= max,
      `${name} must be a whole number from 1 to ${max}`,
    )
    .transform(Number);

const EnvSchema = z.object({
  DATABASE_URL: optionalString,
  REDIS_URL: optionalString.refine(
    (v) => v === undefined || /^rediss?:\/\/[^\s]+$/.test(v),
    'REDIS_URL must look like redis://host:6379 (or rediss:// for TLS); unset it to use the in-process broker',
  ),
  LISTEN_ADDR: z.string().trim().default('0.0.0.0:8080'),
  PUBLIC_URL: optionalString,
  DATA_DIR: z.string().trim().min(1).default('./data'),
  JWT_PRIVATE_KEY_PATH: optionalString,
  JWT_PUBLIC_KEY_PATH: optionalString,
  TOTP_ENCRYPTION_KEY: optionalString.refine(
    (v) => v === undefined || /^[0-9a-fA-F]{64}$/.test(v),
    'TOTP_ENCRYPTION_KEY must be exactly 64 hexadecimal characters (32 bytes). Generate one with `openssl rand -hex 32`, or unset it to have one generated in DATA_DIR/secrets',
  ),
  REGISTRATION_MODE: z
    .enum(['open', 'invite_only', 'closed'], { error: 'REGISTRATION_MODE must be one of: open, invite_only, closed' })
    .default('invite_only'),
  COMMUNITY_CREATION_MODE: z
    .enum(['admin_only', 'open'], { error: 'COMMUNITY_CREATION_MODE must be one of: admin_only, open' })
    .default('admin_only'),
  ADMIN_USERNAME: optionalString.refine(
    (v) => v === undefined || /^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/.test(v),
    'ADMIN_USERNAME must be a valid username: 3–32 characters of letters, digits, _ . -, starting with a letter or digit',
  ),
  FILE_STORAGE_PATH: optionalString,
  MAX_FILE_SIZE_MB: megabytes('MAX_FILE_SIZE_MB', 100),
  UPLOAD_QUOTA_MB: megabytes('UPLOAD_QUOTA_MB', 500),
  VAPID_PUBLIC_KEY: optionalString.refine(
    (v) => v === undefined || /^[A-Za-z0-9_-]{87}$/.test(v),
    'VAPID_PUBLIC_KEY must be the base64url of an uncompressed P-256 point (87 characters); unset both VAPID keys to have them generated',
  ),
  VAPID_PRIVATE_KEY: optionalString.refine(
    (v) => v === undefined || /^[A-Za-z0-9_-]{43}$/.test(v),
    'VAPID_PRIVATE_KEY must be the base64url of a 32-byte P-256 private key (43 characters); unset both VAPID keys to have them generated',
  ),
  ICE_SERVERS: optionalString,
  TURN_SECRET: optionalString.refine(
    (v) => v === undefined || v.length >= 16,
    "TURN_SECRET must be at least 16 characters (use the same value as coturn's static-auth-secret)",
  ),
  GIF_PROVIDER: optionalString.pipe(
    z
      .enum(['tenor', 'giphy'], { error: 'GIF_PROVIDER must be tenor or giphy (or unset to hide the GIF picker)' })
      .optional(),
  ),
  GIF_API_KEY: optionalString,
  GIF_API_BASE_URL: optionalString,
  TRUSTED_PROXIES: optionalString,
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'LOG_LEVEL must be one of: fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  MAX_SOCKETS_PER_USER: positiveInt('MAX_SOCKETS_PER_USER', 8, 64),
  AUDIT_LOG_RETENTION_DAYS: positiveInt('AUDIT_LOG_RETENTION_DAYS', 90, 3650),
  CHATALOT_WEB_DIR: optionalString,
});

/** Every environment variable the server reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

type Env = Record<string, string | undefined>;

/**
 * Reads `.env` from `cwd` (if present) under the given environment and returns the validated
 * configuration, or throws a ConfigError that lists every problem with its fix.
 */
export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const dotenvPath = path.join(cwd, '.env');
  const fromFile = existsSync(dotenvPath) ? parseDotenv(readFileSync(dotenvPath)) : {};
  const merged: Env = { ...fromFile, ...env };

  const parsed = EnvSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  }
  const e = parsed.data;
  const problems: string[] = [];

  const dataDir = path.resolve(cwd, e.DATA_DIR);
  const secretsDir = path.join(dataDir, 'secrets');
  const database = parseDatabaseUrl(e.DATABASE_URL, dataDir, cwd, problems);
  const listen = parseListenAddr(e.LISTEN_ADDR, problems);
  const publicUrl = parsePublicUrl(e.PUBLIC_URL, problems);
  const trustedProxies = parseTrustedProxies(e.TRUSTED_PROXIES, problems);
  const iceServers = parseIceServers(e.ICE_SERVERS, problems);

  const jwtGiven = [e.JWT_PRIVATE_KEY_PATH, e.JWT_PUBLIC_KEY_PATH].filter(Boolean).length;
  if (jwtGiven === 1) {
    problems.push(
      'JWT_PRIVATE_KEY_PATH and JWT_PUBLIC_KEY_PATH must be set together (or both unset to use generated keys)',
    );
  }
  const vapidGiven = [e.VAPID_PUBLIC_KEY, e.VAPID_PRIVATE_KEY].filter(Boolean).length;
  if (vapidGiven === 1) {
    problems.push('VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together (or both unset to use generated keys)');
  }
  if (e.GIF_PROVIDER && !e.GIF_API_KEY) {
    problems.push(`GIF_PROVIDER=${e.GIF_PROVIDER} needs GIF_API_KEY (the provider's API key)`);
  }
  if (e.GIF_API_BASE_URL && !isHttpUrl(e.GIF_API_BASE_URL)) {
    problems.push('GIF_API_BASE_URL must be an http(s) URL such as https://tenor.googleapis.com');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    database,
    redisUrl: e.REDIS_URL,
    listen,
    publicUrl,
    dataDir,
    secretsDir,
    jwt: {
      privateKeyPath: path.resolve(cwd, e.JWT_PRIVATE_KEY_PATH ?? path.join(secretsDir, 'jwt_private.pem')),
      publicKeyPath: path.resolve(cwd, e.JWT_PUBLIC_KEY_PATH ?? path.join(secretsDir, 'jwt_public.pem')),
      generated: jwtGiven === 0,
    },
    totpEncryptionKey: e.TOTP_ENCRYPTION_KEY?.toLowerCase(),
    registrationMode: e.REGISTRATION_MODE,
    communityCreationMode: e.COMMUNITY_CREATION_MODE,
    adminUsername: e.ADMIN_USERNAME,
    fileStoragePath: path.resolve(cwd, e.FILE_STORAGE_PATH ?? path.join(dataDir, 'files')),
    maxFileSizeBytes: e.MAX_FILE_SIZE_MB,
    uploadQuotaBytes: e.UPLOAD_QUOTA_MB,
    vapid:
      e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY
        ? { publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY }
        : undefined,
    iceServers,
    turnSecret: e.TURN_SECRET,
    gif:
      e.GIF_PROVIDER && e.GIF_API_KEY
        ? { provider: e.GIF_PROVIDER, apiKey: e.GIF_API_KEY, baseUrl: e.GIF_API_BASE_URL }
        : undefined,
    trustedProxies,
    logLevel: e.LOG_LEVEL,
    maxSocketsPerUser: e.MAX_SOCKETS_PER_USER,
    auditRetentionDays: e.AUDIT_LOG_RETENTION_DAYS,
    webDir: e.CHATALOT_WEB_DIR ? path.resolve(cwd, e.CHATALOT_WEB_DIR) : DEFAULT_WEB_DIR,
  };
}

function parseDatabaseUrl(
  value: string | undefined,
  dataDir: string,
  cwd: string,
  problems: string[],
): Config['database'] {
  if (value === undefined) return { kind: 'sqlite', path: path.join(dataDir, 'chatalot.db') };
  if (value.startsWith('sqlite:')) {
    const file = value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') {
      problems.push('DATABASE_URL=sqlite: needs a file path, e.g. sqlite:./data/chatalot.db');
      return { kind: 'sqlite', path: '' };
    }
    return { kind: 'sqlite', path: path.resolve(cwd, file) };
  }
  if (/^postgres(ql)?:\/\//.test(value)) {
    try {
      const url = new URL(value);
      if (!url.hostname && !url.searchParams.get('host')) throw new Error('no host');
      return { kind: 'postgres', url: value };
    } catch {
      problems.push('DATABASE_URL is not a valid PostgreSQL URL; expected postgres://USER:PASSWORD@HOST:5432/DATABASE');
      return { kind: 'postgres', url: '' };
    }
  }
  problems.push(
    'DATABASE_URL must start with postgres:// (PostgreSQL) or sqlite: (SQLite file path); unset it to use SQLite at DATA_DIR/chatalot.db',
  );
  return { kind: 'sqlite', path: '' };
}

function parseListenAddr(value: string, problems: string[]): Config['listen'] {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  const hostOk = host !== undefined && (isIP(host) !== 0 || /^[A-Za-z0-9.-]+$/.test(host));
  if (!match || !hostOk || port > 65535) {
    problems.push('LISTEN_ADDR must be HOST:PORT, e.g. 0.0.0.0:8080, 127.0.0.1:3000 or [::]:8080');
    return { host: '0.0.0.0', port: 8080 };
  }
  return { host: host!, port };
}

function parsePublicUrl(value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  if (!isHttpUrl(value)) {
    problems.push(
      'PUBLIC_URL must be the http(s) address people use to reach this server, e.g. https://chat.example.org',
    );
    return undefined;
  }
  return value.replace(/\/+$/, '');
}

function parseTrustedProxies(value: string | undefined, problems: string[]): string[] {
  if (value === undefined) return ['127.0.0.1', '::1'];
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [addr, bits, extra] = entry.split('/');
    const family = isIP(addr ?? '');
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (family === 0 || !bitsOk || extra !== undefined) {
      problems.push(`TRUSTED_PROXIES entry "${entry}" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 127.0.0.1)`);
    }
  }
  return entries;
}

function parseIceServers(value: string | undefined, problems: string[]): string[] {
  if (value === undefined) return [];
  const urls = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const url of urls) {
    if (!/^(stun|stuns|turn|turns):[^\s]+$/.test(url)) {
      problems.push(`ICE_SERVERS entry "${url}" must be a stun:, stuns:, turn: or turns: URL (comma-separated list)`);
    }
  }
  return urls;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

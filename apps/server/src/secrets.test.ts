import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateSecrets, SecretsError } from './secrets.js';
import { testConfig } from './test-support/test-config.js';

const mode = (file: string) => statSync(file).mode & 0o777;

describe('loadOrCreateSecrets', () => {
  it('generates every secret on first start with mode 0600 and reuses them afterwards', () => {
    const config = testConfig();
    const first = loadOrCreateSecrets(config);
    expect(first.generated).toBe(true);

    const files = ['jwt_private.pem', 'jwt_public.pem', 'totp_encryption_key', 'vapid_keys.json'].map((f) =>
      path.join(config.secretsDir, f),
    );
    for (const file of files) expect(mode(file)).toBe(0o600);
    expect(mode(config.secretsDir)).toBe(0o700);
    expect(first.jwtPrivateKey.asymmetricKeyType).toBe('ed25519');
    expect(first.totpEncryptionKey).toHaveLength(32);
    expect(first.vapid.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(first.vapid.privateKey).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const before = files.map((f) => readFileSync(f, 'utf8'));
    const second = loadOrCreateSecrets(config);
    expect(second.generated).toBe(false);
    expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(before);
    expect(Buffer.from(second.totpEncryptionKey)).toEqual(Buffer.from(first.totpEncryptionKey));
    expect(second.vapid).toEqual(first.vapid);
  });

  it('uses configured TOTP and VAPID keys instead of generating them', () => {
    const config = testConfig({
      TOTP_ENCRYPTION_KEY: '11'.repeat(32),
      VAPID_PUBLIC_KEY: 'B'.repeat(87),
      VAPID_PRIVATE_KEY: 'c'.repeat(43),
    });
    const secrets = loadOrCreateSecrets(config);
    expect(Buffer.from(secrets.totpEncryptionKey).toString('hex')).toBe('11'.repeat(32));
    expect(secrets.vapid.publicKey).toBe('B'.repeat(87));
  });

  it('refuses configured JWT key paths that do not exist instead of generating keys there', () => {
    const config = testConfig({
      JWT_PRIVATE_KEY_PATH: '/nonexistent/priv.pem',
      JWT_PUBLIC_KEY_PATH: '/nonexistent/pub.pem',
    });
    expect(() => loadOrCreateSecrets(config)).toThrow(/JWT key file .* is missing/);
  });

  it('refuses a JWT public key that does not match the private key', () => {
    const config = testConfig();
    loadOrCreateSecrets(config);
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(config.jwt.publicKeyPath, other);
    expect(() => loadOrCreateSecrets(config)).toThrow(SecretsError);
    expect(() => loadOrCreateSecrets(config)).toThrow(/does not belong to the private key/);
  });

  it('refuses JWT keys that are not Ed25519', () => {
    const config = testConfig();
    loadOrCreateSecrets(config);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(config.jwt.privateKeyPath, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(config.jwt.publicKeyPath, rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    expect(() => loadOrCreateSecrets(config)).toThrow(/must be Ed25519/);
  });
});

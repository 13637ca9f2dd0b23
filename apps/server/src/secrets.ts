import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';

/** The instance's secrets, loaded from config or from `DATA_DIR/secrets`. */
export interface Secrets {
  jwtPrivateKey: KeyObject;
  jwtPublicKey: KeyObject;
  /** 32 bytes used to encrypt TOTP secrets at rest. */
  totpEncryptionKey: Uint8Array;
  vapid: { publicKey: string; privateKey: string };
  /** True when this start generated at least one secret (so this is the instance's first start). */
  generated: boolean;
}

export class SecretsError extends Error {
  override name = 'SecretsError';
}

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * Loads the secrets, generating those that are neither configured nor on disk yet. Generated
 * files are written with mode 0600 inside a 0700 folder, and reused on later starts.
 */
export function loadOrCreateSecrets(config: Config): Secrets {
  mkdirSync(config.secretsDir, { recursive: true, mode: DIR_MODE });
  let generated = false;

  const jwt = loadJwtKeys(config, () => (generated = true));

  let totpHex = config.totpEncryptionKey;
  if (totpHex === undefined) {
    const file = path.join(config.secretsDir, 'totp_encryption_key');
    if (!existsSync(file)) {
      writeSecret(file, `${randomBytes(32).toString('hex')}\n`);
      generated = true;
    }
    totpHex = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/i.test(totpHex)) {
      throw new SecretsError(
        `${file} does not hold 64 hex characters; restore it from a backup (TOTP secrets depend on it)`,
      );
    }
  }

  let vapid = config.vapid;
  if (vapid === undefined) {
    const file = path.join(config.secretsDir, 'vapid_keys.json');
    if (!existsSync(file)) {
      writeSecret(file, `${JSON.stringify(generateVapidKeys(), null, 2)}\n`);
      generated = true;
    }
    vapid = readVapidFile(file);
  }

  return { ...jwt, totpEncryptionKey: Buffer.from(totpHex, 'hex'), vapid, generated };
}

function loadJwtKeys(config: Config, onGenerate: () => void): Pick<Secrets, 'jwtPrivateKey' | 'jwtPublicKey'> {
  const { privateKeyPath, publicKeyPath } = config.jwt;
  const havePrivate = existsSync(privateKeyPath);
  const havePublic = existsSync(publicKeyPath);
  if (!havePrivate && !havePublic && config.jwt.generated) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeSecret(privateKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    writeSecret(publicKeyPath, publicKey.export({ type: 'spki', format: 'pem' }).toString());
    onGenerate();
  } else if (!havePrivate || !havePublic) {
    const missing = havePrivate ? publicKeyPath : privateKeyPath;
    throw new SecretsError(
      `JWT key file ${missing} is missing. Restore it, or generate a pair with scripts/generate-secrets.sh`,
    );
  }

  let jwtPrivateKey: KeyObject;
  let jwtPublicKey: KeyObject;
  try {
    jwtPrivateKey = createPrivateKey(readFileSync(privateKeyPath));
    jwtPublicKey = createPublicKey(readFileSync(publicKeyPath));
  } catch {
    throw new SecretsError(`JWT keys at ${privateKeyPath} / ${publicKeyPath} are not readable PEM keys`);
  }
  if (jwtPrivateKey.asymmetricKeyType !== 'ed25519' || jwtPublicKey.asymmetricKeyType !== 'ed25519') {
    throw new SecretsError('JWT keys must be Ed25519 (generate with: openssl genpkey -algorithm ed25519)');
  }
  const derived = createPublicKey(jwtPrivateKey).export({ type: 'spki', format: 'der' });
  if (!derived.equals(jwtPublicKey.export({ type: 'spki', format: 'der' }))) {
    throw new SecretsError(`JWT public key ${publicKeyPath} does not belong to the private key ${privateKeyPath}`);
  }
  return { jwtPrivateKey, jwtPublicKey };
}

/** A P-256 key pair in the form web push uses: base64url uncompressed point / 32-byte scalar. */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = privateKey.export({ format: 'jwk' });
  const point = publicKey.export({ type: 'spki', format: 'der' }).subarray(-65);
  if (!jwk.d || point[0] !== 0x04) throw new SecretsError('unexpected P-256 key encoding');
  return { publicKey: point.toString('base64url'), privateKey: jwk.d };
}

function readVapidFile(file: string): { publicKey: string; privateKey: string } {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { publicKey?: unknown; privateKey?: unknown };
    if (typeof parsed.publicKey === 'string' && typeof parsed.privateKey === 'string') {
      return { publicKey: parsed.publicKey, privateKey: parsed.privateKey };
    }
  } catch {
    // fall through to the error below
  }
  throw new SecretsError(
    `${file} is not a VAPID key file; delete it to generate new keys (existing push subscriptions will stop working)`,
  );
}

function writeSecret(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: DIR_MODE });
  try {
    // `wx`: never overwrite a secret that appeared in the meantime (another process starting).
    writeFileSync(file, content, { mode: FILE_MODE, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  chmodSync(file, FILE_MODE);
}

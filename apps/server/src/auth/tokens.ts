import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../errors.js';
import { VerifiedTokens } from './verified-tokens.js';

export const ACCESS_TOKEN_TTL_SECS = 15 * 60;
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const AUDIENCE = 'chatalot';
const TYPE = 'access';

/** Claims the server relies on after verifying an access token. */
export interface AccessClaims {
  userId: string;
  sessionId: string;
  /** When the token stops being accepted (set by `verify`). */
  expiresAtMs?: number;
}

/**
 * Issues and verifies access tokens: EdDSA (Ed25519) JWTs with `iss`, `aud`, `sub`, `sid`,
 * `iat`, `exp` and `typ`. Verification accepts only EdDSA with our own key (jose never
 * fetches a `jku` or trusts an embedded `jwk`), so `alg: none`, HMAC with the public key and
 * header injection all fail. Roles are not in the token: they are read fresh on every request.
 */
export class AccessTokens {
  /** Tokens already verified, so a signature is checked once per token, not once per request. */
  private readonly verified = new VerifiedTokens<AccessClaims>();

  constructor(
    private readonly keys: { privateKey: KeyObject; publicKey: KeyObject },
    private readonly issuer: string,
  ) {}

  async issue(claims: AccessClaims, nowMs = Date.now()): Promise<string> {
    const iat = Math.floor(nowMs / 1000);
    return new SignJWT({ sid: claims.sessionId, typ: TYPE })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(AUDIENCE)
      .setSubject(claims.userId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ACCESS_TOKEN_TTL_SECS)
      .sign(this.keys.privateKey);
  }

  /** The claims of a valid token; `token_expired` or `invalid_token` otherwise. */
  async verify(token: string, nowMs = Date.now()): Promise<AccessClaims> {
    const known = this.verified.get(token, nowMs);
    if (known) return { ...known };
    const { claims, exp, nbf } = await this.verifyFully(token, nowMs);
    this.verified.add(token, { claims, exp, nbf }, nowMs);
    return { ...claims };
  }

  /** Signature, algorithm, issuer, audience, lifetime and type, checked by jose. */
  private async verifyFully(
    token: string,
    nowMs: number,
  ): Promise<{ claims: AccessClaims; exp: number; nbf: number | undefined }> {
    try {
      const { payload } = await jwtVerify(token, this.keys.publicKey, {
        algorithms: ['EdDSA'],
        issuer: this.issuer,
        audience: AUDIENCE,
        currentDate: new Date(nowMs),
        requiredClaims: ['sub', 'iat', 'exp'],
      });
      if (payload.typ !== TYPE || typeof payload.sid !== 'string' || typeof payload.sub !== 'string') {
        throw new AppError('invalid_token', 'Not an access token');
      }
      const exp = payload.exp ?? 0;
      return {
        claims: { userId: payload.sub, sessionId: payload.sid, expiresAtMs: exp * 1000 },
        exp,
        nbf: payload.nbf,
      };
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof joseErrors.JWTExpired)
        throw new AppError('token_expired', 'The access token has expired; refresh it');
      throw new AppError('invalid_token', 'The access token is not valid');
    }
  }
}

/** A new opaque refresh token: 32 random bytes, base64url. Only its hash is stored. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of a refresh token, hex: what the database stores and looks up. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

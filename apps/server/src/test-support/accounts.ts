import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Secret } from 'otpauth';
import { expect } from 'vitest';
import { totpAt, totpStep } from '../auth/totp.js';
import type { TestApp } from './test-app.js';

/** A password that passes the strength check (not on the common-password list). */
export const STRONG_PASSWORD = 'correct horse battery';

/** `{ authorization: 'Bearer …' }` for app.inject. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface RegisteredUser {
  id: string;
  username: string;
  password: string;
  recoveryCode: string;
  accessToken: string;
  refreshToken: string;
  auth: { authorization: string };
}

/**
 * Registers through the API (one Argon2 hash). The first registration on an empty instance
 * becomes the owner; later ones need `inviteCode` (the default mode is invite_only).
 */
export async function registerUser(
  app: FastifyInstance,
  username: string,
  options: { password?: string; inviteCode?: string; email?: string } = {},
): Promise<RegisteredUser> {
  const password = options.password ?? STRONG_PASSWORD;
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/register',
    payload: {
      username,
      password,
      ...(options.inviteCode ? { invite_code: options.inviteCode } : {}),
      ...(options.email ? { email: options.email } : {}),
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json();
  return {
    id: body.user.id,
    username,
    password,
    recoveryCode: body.recovery_code,
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    auth: bearer(body.access_token),
  };
}

/** Creates an unlimited registration invite as `auth` (an instance admin). */
export async function createInvite(
  app: FastifyInstance,
  auth: { authorization: string },
  body: Record<string, unknown> = {},
): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/admin/invites', headers: auth, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().code as string;
}

export function login(
  app: FastifyInstance,
  username: string,
  password: string,
  options: { totpCode?: string; remoteAddress?: string; headers?: Record<string, string> } = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password, ...(options.totpCode ? { totp_code: options.totpCode } : {}) },
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
}

/** Signs in and returns the token pair; fails the test unless it answers 200. */
export async function loginOk(
  app: FastifyInstance,
  username: string,
  password: string,
  options: { totpCode?: string; remoteAddress?: string } = {},
): Promise<{ accessToken: string; refreshToken: string; auth: { authorization: string } }> {
  const res = await login(app, username, password, options);
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json();
  return { accessToken: body.access_token, refreshToken: body.refresh_token, auth: bearer(body.access_token) };
}

/** The TOTP code `offsetSteps` steps from now for a base32 secret (SHA-1, 6 digits, 30 s). */
export function totpCode(secretBase32: string, offsetSteps = 0): string {
  const step = totpStep(Date.now()) + offsetSteps;
  return totpAt(Secret.fromBase32(secretBase32).bytes, 'SHA1', 6, step * 30);
}

/**
 * Turns 2FA on for the signed-in user: setup, then enable with the code of the previous
 * step (the earliest the server accepts), so the current and next steps stay usable.
 */
export async function enableTotp(
  app: FastifyInstance,
  auth: { authorization: string },
): Promise<{ secret: string; backupCodes: string[] }> {
  const setup = await app.inject({ method: 'POST', url: '/api/account/totp/setup', headers: auth });
  expect(setup.statusCode, setup.body).toBe(200);
  const { secret } = setup.json() as { secret: string };
  const enable = await app.inject({
    method: 'POST',
    url: '/api/account/totp/enable',
    headers: auth,
    payload: { code: totpCode(secret, -1) },
  });
  expect(enable.statusCode, enable.body).toBe(200);
  return { secret, backupCodes: enable.json().backup_codes as string[] };
}

/** The error code of an error envelope response. */
export function errorCode(res: LightMyRequestResponse): string | undefined {
  return (res.json() as { error?: { code?: string } }).error?.code;
}

/** Status and error code together, for one readable assertion. */
export function statusAndCode(res: LightMyRequestResponse): [number, string | undefined] {
  return [res.statusCode, res.statusCode >= 400 ? errorCode(res) : undefined];
}

/** GET /api/account/profile with the given headers: a quick "does this token still work". */
export function whoAmI(app: FastifyInstance, auth: { authorization: string }): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: '/api/account/profile', headers: auth });
}

/** Audit rows of an action, oldest first. */
export async function auditRows(t: TestApp, action: string) {
  return t.db.database.db
    .selectFrom('audit_log')
    .selectAll()
    .where('action', '=', action)
    .orderBy('created_at', 'asc')
    .execute();
}

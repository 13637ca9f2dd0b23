/**
 * Trust on first use. The first identity key seen for a user is recorded as `unverified`;
 * comparing safety numbers marks it `verified`; a different key later sets `changed` and
 * every session operation with that user fails with `untrusted_identity` until the new key
 * is accepted with {@link acceptIdentity} (which resets the state to `unverified`).
 */
import { equalBytes } from './bytes.js';
import { CryptoError } from './errors.js';
import type { TrustRecord, TrustStore } from './store.js';

/**
 * Checks `identityKey` for `userId` against the store, recording it on first use.
 * Throws `untrusted_identity` when the key changed and has not been accepted.
 */
export async function checkIdentity(
  store: TrustStore,
  userId: string,
  identityKey: Uint8Array,
  now: number,
): Promise<void> {
  const rec = await store.loadTrust(userId);
  if (!rec) {
    await store.storeTrust(userId, { identityKey, state: 'unverified', updatedAt: now });
    return;
  }
  if (rec.state !== 'changed' && equalBytes(rec.identityKey, identityKey)) return;
  if (rec.state !== 'changed' || !rec.pendingIdentityKey || !equalBytes(rec.pendingIdentityKey, identityKey)) {
    await store.storeTrust(userId, { ...rec, state: 'changed', pendingIdentityKey: identityKey, updatedAt: now });
  }
  throw new CryptoError('untrusted_identity', `identity key of ${userId} changed`);
}

/** Accepts `identityKey` as the user's key (after the user acknowledged the change). */
export async function acceptIdentity(
  store: TrustStore,
  userId: string,
  identityKey: Uint8Array,
  now: number,
): Promise<void> {
  await store.storeTrust(userId, { identityKey, state: 'unverified', updatedAt: now });
}

/**
 * Marks the user's current key as verified (safety numbers compared). Throws
 * `untrusted_identity` if `identityKey` is not the currently trusted key.
 */
export async function markVerified(
  store: TrustStore,
  userId: string,
  identityKey: Uint8Array,
  now: number,
): Promise<void> {
  const rec = await store.loadTrust(userId);
  if (!rec || rec.state === 'changed' || !equalBytes(rec.identityKey, identityKey)) {
    throw new CryptoError('untrusted_identity', 'only the currently trusted key can be verified');
  }
  await store.storeTrust(userId, { ...rec, state: 'verified', updatedAt: now });
}

/** The trust record of a user, if any. */
export async function getTrust(store: TrustStore, userId: string): Promise<TrustRecord | undefined> {
  return store.loadTrust(userId);
}

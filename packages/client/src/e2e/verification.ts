/**
 * Verified contacts (PRODUCT.md §5 "Trust"): the person compared the 60-digit safety number
 * with the contact, in person or by QR code, and marked them verified on this device.
 *
 * The state lives in @chatalot/crypto's trust record (`verified` / `unverified` / `changed`)
 * in the encrypted key store. Beside it, `m/verified/<userId>` keeps which identity key was
 * verified and when: when a verified contact's key changes, the trust record only says
 * `changed`, and this witness lets the key-change warning say that the replaced key had been
 * verified. Accepting the new key clears both (the new key starts unverified).
 */
import { markVerified, type TrustRecord } from '@chatalot/crypto';
import { equalBytes } from './bytes.js';
import { E2EError } from './errors.js';
import type { E2EKeyStore } from './key-store.js';

/** Which key of a contact was verified, and when. */
export interface VerificationRecord {
  identityKey: Uint8Array;
  verifiedAt: number;
}

const keyOf = (userId: string) => `m/verified/${userId}`;

export class ContactVerification {
  constructor(
    private readonly store: E2EKeyStore,
    private readonly now: () => number,
  ) {}

  /**
   * Marks the contact's current key verified. Throws E2EError `untrusted_identity` when no key
   * is known for them or their key changed and was not accepted yet.
   */
  async verify(userId: string): Promise<void> {
    const rec = await this.store.loadTrust(userId);
    if (!rec || rec.state === 'changed') {
      throw new E2EError('untrusted_identity', `no current identity key to verify for ${userId}`, [userId]);
    }
    const now = this.now();
    await markVerified(this.store, userId, rec.identityKey, now);
    const witness: VerificationRecord = { identityKey: rec.identityKey, verifiedAt: now };
    await this.store.write(keyOf(userId), witness);
  }

  /** Takes the verification back: the contact's key stays trusted, as unverified. */
  async unverify(userId: string): Promise<void> {
    const rec = await this.store.loadTrust(userId);
    if (rec?.state === 'verified') {
      await this.store.storeTrust(userId, { ...rec, state: 'unverified', updatedAt: this.now() });
    }
    await this.store.kv.delete(keyOf(userId));
  }

  /** When the contact's current key was verified; undefined unless it is verified now. */
  async verifiedAt(userId: string, rec?: TrustRecord): Promise<number | undefined> {
    const trust = rec ?? (await this.store.loadTrust(userId));
    if (trust?.state !== 'verified') return undefined;
    const witness = await this.store.read<VerificationRecord>(keyOf(userId));
    return witness && equalBytes(witness.identityKey, trust.identityKey) ? witness.verifiedAt : trust.updatedAt;
  }

  /** True while the contact's key changed and the key it replaced had been verified. */
  async wasVerifiedBeforeChange(userId: string, rec?: TrustRecord): Promise<boolean> {
    const trust = rec ?? (await this.store.loadTrust(userId));
    if (trust?.state !== 'changed') return false;
    const witness = await this.store.read<VerificationRecord>(keyOf(userId));
    return witness !== undefined && equalBytes(witness.identityKey, trust.identityKey);
  }

  /** After a changed key was accepted: the old verification no longer applies. */
  async clear(userId: string): Promise<void> {
    await this.store.kv.delete(keyOf(userId));
  }
}

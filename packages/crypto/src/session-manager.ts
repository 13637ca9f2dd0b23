/**
 * Pairwise sessions with every device of every contact (and our own other devices):
 * X3DH to start, Double Ratchet after. State lives only in the stores; every encrypt
 * persists the advanced state before it resolves, every decrypt commits only after the
 * message authenticated.
 */
import { addressKey, type ProtocolAddress } from './address.js';
import { equalBytes } from './bytes.js';
import {
  initInitiator,
  initResponder,
  ratchetDecrypt,
  ratchetEncrypt,
  type RatchetOptions,
  type RatchetState,
} from './double-ratchet.js';
import { decodeEnvelope, domainLabel, encodeEnvelope, MessageType, peekEnvelopeType } from './envelope.js';
import { CryptoError } from './errors.js';
import type { IdentityKeyPair, PreKeyBundle } from './keys.js';
import { KeyedLock } from './lock.js';
import {
  decodePreKeyMessage,
  decodeRatchetMessage,
  encodePreKeyHeader,
  encodePreKeyMessage,
  encodeRatchetMessage,
  type ParsedPreKeyMessage,
} from './prekey-message.js';
import { assertEd25519PublicKey, type CryptoContext } from './primitives.js';
import {
  allSessions,
  deserializeRecord,
  emptyRecord,
  installIncoming,
  promote,
  serializeRecord,
  type SessionRecord,
  type SessionState,
} from './session-record.js';
import type { PreKeyStore, SessionStore, TrustStore } from './store.js';
import { checkIdentity } from './trust.js';
import { x3dhInitiate, x3dhRespond } from './x3dh.js';

/** Payload types that may travel inside a pairwise session. */
export type PairwisePayloadType = typeof MessageType.PairwiseApplication | typeof MessageType.SenderKeyDistribution;

/** A decrypted pairwise payload. */
export interface PairwisePayload {
  type: PairwisePayloadType;
  body: Uint8Array;
}

export interface SessionManagerOptions {
  ctx: CryptoContext;
  /** This user's identity key (the same on all its devices). */
  identity: IdentityKeyPair;
  /** This device's address. */
  address: ProtocolAddress;
  sessions: SessionStore;
  preKeys: PreKeyStore;
  trust: TrustStore;
  ratchet?: RatchetOptions;
}

/** One ciphertext of a fan-out, for one device. */
export interface FanOutMessage {
  address: ProtocolAddress;
  message: Uint8Array;
}

/** Pairwise session operations of one device. */
export class SessionManager {
  private readonly lock = new KeyedLock();

  constructor(private readonly o: SessionManagerOptions) {}

  /** This device's address. */
  get address(): ProtocolAddress {
    return this.o.address;
  }

  private async load(address: ProtocolAddress): Promise<SessionRecord> {
    const bytes = await this.o.sessions.loadSession(addressKey(address));
    return bytes ? deserializeRecord(bytes) : emptyRecord();
  }

  private save(address: ProtocolAddress, r: SessionRecord): Promise<void> {
    return this.o.sessions.storeSession(addressKey(address), serializeRecord(r));
  }

  /** Checks (and on first use records) a peer identity key; our own devices must share ours. */
  private async checkPeerIdentity(userId: string, identityKey: Uint8Array): Promise<void> {
    if (userId === this.o.address.userId) {
      if (!equalBytes(identityKey, this.o.identity.publicKey)) {
        throw new CryptoError('untrusted_identity', 'own device presents a different identity key');
      }
      return;
    }
    await checkIdentity(this.o.trust, userId, identityKey, this.o.ctx.now());
  }

  /** Whether a current session exists with `address`. */
  async hasSession(address: ProtocolAddress): Promise<boolean> {
    return (await this.load(address)).current !== undefined;
  }

  /**
   * Starts a session from a prekey bundle (verifies the signed prekey and the identity's
   * trust state). Replacing an existing session is always a reset: the new session is
   * flagged so that the peer adopts it on receipt (see `installIncoming`).
   */
  async processPreKeyBundle(bundle: PreKeyBundle, opts: { reset?: boolean } = {}): Promise<void> {
    const address = { userId: bundle.userId, deviceId: bundle.deviceId };
    return this.lock.run(addressKey(address), async () => {
      const init = x3dhInitiate(this.o.ctx, { identity: this.o.identity, address: this.o.address }, bundle);
      await this.checkPeerIdentity(bundle.userId, bundle.identityKey);
      const record = await this.load(address);
      const ratchet = initInitiator(this.o.ctx, init.sharedSecret, init.associatedData, init.theirSignedPreKey);
      const state: SessionState = {
        baseKey: init.baseKey.publicKey,
        initiator: true,
        reset: (opts.reset ?? false) || record.current !== undefined,
        theirIdentity: bundle.identityKey,
        ratchet,
        pending: { signedPreKeyId: init.signedPreKeyId, oneTimePreKeyId: init.oneTimePreKeyId },
        createdAt: this.o.ctx.now(),
      };
      await this.save(address, promote(record, state));
    });
  }

  /** Explicit session reset: a new session from `bundle` that the peer adopts on receipt. */
  resetSession(bundle: PreKeyBundle): Promise<void> {
    return this.processPreKeyBundle(bundle, { reset: true });
  }

  /** Forgets every session with `address`. */
  async deleteSession(address: ProtocolAddress): Promise<void> {
    await this.lock.run(addressKey(address), () => this.o.sessions.deleteSession(addressKey(address)));
  }

  /** Encrypts application bytes for one device. */
  encrypt(address: ProtocolAddress, plaintext: Uint8Array): Promise<Uint8Array> {
    return this.encryptPayload(address, { type: MessageType.PairwiseApplication, body: plaintext });
  }

  /**
   * Encrypts a typed payload for one device. The advanced ratchet state is written to the
   * session store before the returned promise resolves; if the write fails, no ciphertext
   * is returned.
   */
  encryptPayload(address: ProtocolAddress, payload: PairwisePayload): Promise<Uint8Array> {
    return this.lock.run(addressKey(address), async () => {
      const record = await this.load(address);
      const s = record.current;
      if (!s) throw new CryptoError('no_session', `no session with ${addressKey(address)}`);
      await this.assertSendable(address.userId, s.theirIdentity);
      const plaintext = encodeEnvelope(payload.type, payload.body);
      let message: Uint8Array;
      let ratchet: RatchetState;
      if (s.pending) {
        const preKeyBytes = encodePreKeyHeader({
          identityKey: this.o.identity.publicKey,
          baseKey: s.baseKey,
          signedPreKeyId: s.pending.signedPreKeyId,
          oneTimePreKeyId: s.pending.oneTimePreKeyId,
          reset: s.reset,
        });
        const out = ratchetEncrypt(
          this.o.ctx,
          s.ratchet,
          plaintext,
          domainLabel(MessageType.PreKeyMessage),
          preKeyBytes,
        );
        message = encodePreKeyMessage(preKeyBytes, out.header, out.ciphertext);
        ratchet = out.state;
      } else {
        const out = ratchetEncrypt(
          this.o.ctx,
          s.ratchet,
          plaintext,
          domainLabel(MessageType.RatchetMessage),
          new Uint8Array(0),
        );
        message = encodeRatchetMessage(out.header, out.ciphertext);
        ratchet = out.state;
      }
      await this.save(address, { ...record, current: { ...s, ratchet } });
      return message;
    });
  }

  /** Sending pauses while the peer's identity is `changed` (or differs from the session's). */
  private async assertSendable(userId: string, sessionIdentity: Uint8Array): Promise<void> {
    if (userId === this.o.address.userId) return this.checkPeerIdentity(userId, sessionIdentity);
    const rec = await this.o.trust.loadTrust(userId);
    if (!rec || rec.state === 'changed' || !equalBytes(rec.identityKey, sessionIdentity)) {
      throw new CryptoError('untrusted_identity', `identity of ${userId} is not trusted for this session`);
    }
  }

  /** Decrypts an application message from `address` (rejects other payload types). */
  async decrypt(address: ProtocolAddress, message: Uint8Array): Promise<Uint8Array> {
    const p = await this.decryptPayload(address, message);
    if (p.type !== MessageType.PairwiseApplication)
      throw new CryptoError('wrong_message_type', 'not an application message');
    return p.body;
  }

  /**
   * Decrypts a prekey or ratchet message from `address` (the sender as the transport reports
   * it; it is authenticated through the X3DH associated data). State is committed only after
   * authentication succeeded.
   */
  decryptPayload(address: ProtocolAddress, message: Uint8Array): Promise<PairwisePayload> {
    return this.lock.run(addressKey(address), async () => {
      const type = peekEnvelopeType(message);
      if (type !== MessageType.PreKeyMessage && type !== MessageType.RatchetMessage) {
        throw new CryptoError('wrong_message_type', 'not a pairwise message');
      }
      const plaintext =
        type === MessageType.PreKeyMessage
          ? await this.decryptPreKey(address, decodePreKeyMessage(message))
          : await this.decryptRatchet(address, message);
      const inner = peekEnvelopeType(plaintext);
      if (inner !== MessageType.PairwiseApplication && inner !== MessageType.SenderKeyDistribution) {
        throw new CryptoError('wrong_message_type', 'unexpected pairwise payload');
      }
      return { type: inner, body: decodeEnvelope(plaintext, inner) };
    });
  }

  private async decryptRatchet(address: ProtocolAddress, message: Uint8Array): Promise<Uint8Array> {
    const { header, ciphertext } = decodeRatchetMessage(message);
    const record = await this.load(address);
    const sessions = allSessions(record);
    if (sessions.length === 0) throw new CryptoError('no_session', `no session with ${addressKey(address)}`);
    const label = domainLabel(MessageType.RatchetMessage);
    return this.tryAll(address, record, sessions, (s) =>
      ratchetDecrypt(this.o.ctx, s.ratchet, header, ciphertext, label, new Uint8Array(0), this.o.ratchet),
    );
  }

  /** Tries each session (current first); commits the one that authenticates. */
  private async tryAll(
    address: ProtocolAddress,
    record: SessionRecord,
    sessions: SessionState[],
    attempt: (s: SessionState) => { state: RatchetState; plaintext: Uint8Array },
  ): Promise<Uint8Array> {
    let error: CryptoError | undefined;
    for (const s of sessions) {
      let out;
      try {
        out = attempt(s);
      } catch (e) {
        if (!(e instanceof CryptoError)) throw e;
        if (!error || error.code === 'decrypt_failed' || error.code === 'invalid_key') error = e;
        continue;
      }
      // A reply confirms the session: stop sending prekey messages.
      const updated: SessionState = { ...s, ratchet: out.state, pending: undefined };
      const replace = (x: SessionState) => (equalBytes(x.baseKey, s.baseKey) ? updated : x);
      await this.save(address, {
        current: record.current && replace(record.current),
        archived: record.archived.map(replace),
      });
      return out.plaintext;
    }
    throw error ?? new CryptoError('decrypt_failed');
  }

  private async decryptPreKey(address: ProtocolAddress, m: ParsedPreKeyMessage): Promise<Uint8Array> {
    const label = domainLabel(MessageType.PreKeyMessage);
    const record = await this.load(address);
    const known = allSessions(record).filter((s) => equalBytes(s.baseKey, m.preKey.baseKey));
    if (known.length > 0) {
      // The initiator has not heard back yet and repeats the prekey header.
      return this.tryAll(address, record, known, (s) =>
        ratchetDecrypt(this.o.ctx, s.ratchet, m.header, m.ciphertext, label, m.preKeyBytes, this.o.ratchet),
      );
    }
    const pk = m.preKey;
    assertEd25519PublicKey(pk.identityKey);
    if (await this.o.preKeys.hasSeenBaseKey(pk.signedPreKeyId, pk.baseKey)) {
      throw new CryptoError('duplicate_message', 'prekey message replayed');
    }
    const spk = await this.o.preKeys.loadSignedPreKey(pk.signedPreKeyId);
    if (!spk) throw new CryptoError('missing_prekey', `no signed prekey ${pk.signedPreKeyId}`);
    const opk =
      pk.oneTimePreKeyId === undefined ? undefined : await this.o.preKeys.loadOneTimePreKey(pk.oneTimePreKeyId);
    if (pk.oneTimePreKeyId !== undefined && !opk)
      throw new CryptoError('missing_prekey', `no one-time prekey ${pk.oneTimePreKeyId}`);

    const x3dh = x3dhRespond({
      identity: this.o.identity,
      address: this.o.address,
      signedPreKey: spk.keyPair,
      oneTimePreKey: opk?.keyPair,
      theirIdentity: pk.identityKey,
      theirAddress: address,
      theirBaseKey: pk.baseKey,
    });
    const initial = initResponder(x3dh.sharedSecret, x3dh.associatedData, spk.keyPair);
    const out = ratchetDecrypt(this.o.ctx, initial, m.header, m.ciphertext, label, m.preKeyBytes, this.o.ratchet);
    // Authenticated: only now may the identity be recorded (TOFU) or flagged as changed.
    await this.checkPeerIdentity(address.userId, pk.identityKey);
    const state: SessionState = {
      baseKey: pk.baseKey,
      initiator: false,
      reset: pk.reset,
      theirIdentity: pk.identityKey,
      ratchet: out.state,
      pending: undefined,
      createdAt: this.o.ctx.now(),
    };
    await this.save(address, installIncoming(record, state));
    await this.o.preKeys.markBaseKeySeen(pk.signedPreKeyId, pk.baseKey);
    if (pk.oneTimePreKeyId !== undefined) await this.o.preKeys.removeOneTimePreKey(pk.oneTimePreKeyId);
    return out.plaintext;
  }

  /**
   * Encrypts one plaintext to every device of every recipient and to our own other devices.
   * Devices without a session get one from `fetchBundle` first. Trust is checked for every
   * device before anything is encrypted, so an untrusted identity aborts the whole send.
   */
  async fanOut(
    plaintext: Uint8Array,
    recipients: ReadonlyArray<{ userId: string; deviceIds: readonly number[] }>,
    ownDeviceIds: readonly number[],
    fetchBundle: (address: ProtocolAddress) => Promise<PreKeyBundle>,
  ): Promise<FanOutMessage[]> {
    const me = this.o.address;
    const targets: ProtocolAddress[] = [];
    const seen = new Set<string>();
    const add = (a: ProtocolAddress) => {
      const k = addressKey(a);
      if (seen.has(k) || (a.userId === me.userId && a.deviceId === me.deviceId)) return;
      seen.add(k);
      targets.push(a);
    };
    for (const r of recipients) for (const d of r.deviceIds) add({ userId: r.userId, deviceId: d });
    for (const d of ownDeviceIds) add({ userId: me.userId, deviceId: d });

    for (const t of targets) {
      const record = await this.load(t);
      if (record.current) await this.assertSendable(t.userId, record.current.theirIdentity);
      else {
        const bundle = await fetchBundle(t);
        if (bundle.userId !== t.userId || bundle.deviceId !== t.deviceId) {
          throw new CryptoError('invalid_parameters', 'bundle is for another device');
        }
        await this.processPreKeyBundle(bundle);
      }
    }
    const out: FanOutMessage[] = [];
    for (const t of targets) out.push({ address: t, message: await this.encrypt(t, plaintext) });
    return out;
  }
}

/**
 * Sender Keys for groups and channels. Each sender has, per group, a chain key (HMAC-SHA256
 * chain, as in the Double Ratchet) and a per-chain Ed25519 signing key. Every group message
 * is signed; receivers verify the signature before they touch the ciphertext.
 *
 *   distribution body = group id (lp utf8) || chain id u32 || iteration u32 || chain key 32 || signing public key 32
 *   message body      = group id (lp utf8) || chain id u32 || iteration u32 || ciphertext (lp) || signature 64
 *   signature input   = label || sender address || envelope bytes before the signature
 *   AEAD AD           = the same bytes as the signature input
 *
 * A distribution carries the chain at its *current* iteration, so a member who joins later
 * cannot derive keys of earlier messages. Distributions travel only inside pairwise Double
 * Ratchet sessions (see `sender-key-transport.ts`).
 */
import { addressKey, type ProtocolAddress } from './address.js';
import { ByteReader, ByteWriter, concat, lp } from './bytes.js';
import { DEFAULT_SKIPPED_KEY_TTL_MS, MAX_SKIP, MAX_STORED_SKIPPED, messageKeyMaterial } from './double-ratchet.js';
import { decodeEnvelope, domainLabel, encodeEnvelope, KdfLabel, MessageType } from './envelope.js';
import { CryptoError } from './errors.js';
import { KeyedLock } from './lock.js';
import {
  assertEd25519PublicKey,
  ed25519PublicKey,
  hmacSha256,
  sign,
  verifyOrThrow,
  type CryptoContext,
} from './primitives.js';
import { deserializeState, serializeState } from './serialize.js';
import type { SenderKeyStore } from './store.js';

/** Chains kept per sender and group (older ones still decrypt messages in flight). */
export const MAX_SENDER_CHAINS = 5;
const RECORD_VERSION = 1;

interface SenderChain {
  chainId: number;
  /** Iteration of the next message key to derive from `chainKey`. */
  iteration: number;
  /** First iteration we hold keys for (later joiners start at the distributed iteration). */
  startIteration: number;
  chainKey: Uint8Array;
  signingPublic: Uint8Array;
  /** Only for our own chain. */
  signingPrivate: Uint8Array | null;
  skipped: { iteration: number; messageKey: Uint8Array; expiresAt: number }[];
}

interface SenderKeyRecord {
  chains: SenderChain[];
}

/** A parsed sender-key distribution. */
export interface SenderKeyDistribution {
  groupId: string;
  chainId: number;
  iteration: number;
  chainKey: Uint8Array;
  signingPublic: Uint8Array;
}

export function encodeDistribution(d: SenderKeyDistribution): Uint8Array {
  const body = new ByteWriter()
    .string(d.groupId)
    .u32(d.chainId)
    .u32(d.iteration)
    .fixed(d.chainKey)
    .fixed(d.signingPublic)
    .finish();
  return encodeEnvelope(MessageType.SenderKeyDistribution, body);
}

export function decodeDistribution(bytes: Uint8Array): SenderKeyDistribution {
  const r = new ByteReader(decodeEnvelope(bytes, MessageType.SenderKeyDistribution));
  const d = {
    groupId: r.string(),
    chainId: r.u32(),
    iteration: r.u32(),
    chainKey: r.fixed(32),
    signingPublic: r.fixed(32),
  };
  r.end();
  return d;
}

function step(chainKey: Uint8Array): [Uint8Array, Uint8Array] {
  return [hmacSha256(chainKey, Uint8Array.of(1)), hmacSha256(chainKey, Uint8Array.of(2))];
}

function signedPart(groupId: string, chainId: number, iteration: number, ciphertext: Uint8Array): Uint8Array {
  return encodeEnvelope(
    MessageType.SenderKeyMessage,
    new ByteWriter().string(groupId).u32(chainId).u32(iteration).bytes(ciphertext).finish(),
  );
}

function bindingInput(sender: ProtocolAddress, signed: Uint8Array): Uint8Array {
  return concat(
    lp(domainLabel(MessageType.SenderKeyMessage)),
    lp(new ByteWriter().string(sender.userId).u32(sender.deviceId).finish()),
    signed,
  );
}

export interface SenderKeyManagerOptions {
  ctx: CryptoContext;
  /** This device's address (the sender of our own group messages). */
  address: ProtocolAddress;
  store: SenderKeyStore;
  skippedKeyTtlMs?: number;
}

/** Group encryption with Sender Keys for one device. */
export class SenderKeyManager {
  private readonly lock = new KeyedLock();

  constructor(private readonly o: SenderKeyManagerOptions) {}

  private key(groupId: string, sender: ProtocolAddress): string {
    return `${addressKey(sender)}\n${groupId}`;
  }

  private async load(k: string): Promise<SenderKeyRecord> {
    const b = await this.o.store.loadSenderKey(k);
    return b ? deserializeState<SenderKeyRecord>(RECORD_VERSION, b) : { chains: [] };
  }

  private save(k: string, r: SenderKeyRecord): Promise<void> {
    return this.o.store.storeSenderKey(k, serializeState(RECORD_VERSION, r));
  }

  private newChain(): SenderChain {
    const signingPrivate = this.o.ctx.rng(32);
    const idBytes = this.o.ctx.rng(4);
    return {
      chainId: new DataView(idBytes.buffer, idBytes.byteOffset, 4).getUint32(0),
      iteration: 0,
      startIteration: 0,
      chainKey: this.o.ctx.rng(32),
      signingPublic: ed25519PublicKey(signingPrivate),
      signingPrivate,
      skipped: [],
    };
  }

  private distributionOf(groupId: string, c: SenderChain): Uint8Array {
    return encodeDistribution({
      groupId,
      chainId: c.chainId,
      iteration: c.iteration,
      chainKey: c.chainKey,
      signingPublic: c.signingPublic,
    });
  }

  /**
   * Our distribution for `groupId` at the current iteration (creating our chain on first
   * use). Send it to members with `sealSenderKeyDistribution`, never in the clear.
   */
  createDistribution(groupId: string): Promise<Uint8Array> {
    const k = this.key(groupId, this.o.address);
    return this.lock.run(k, async () => {
      const r = await this.load(k);
      let c = r.chains[0];
      if (!c) {
        c = this.newChain();
        await this.save(k, { chains: [c] });
      }
      return this.distributionOf(groupId, c);
    });
  }

  /**
   * Replaces our chain for `groupId` with a fresh chain and signing key. Call it whenever a
   * member leaves, is removed or removes a device, then distribute the result to the
   * remaining devices only.
   */
  rotate(groupId: string): Promise<Uint8Array> {
    const k = this.key(groupId, this.o.address);
    return this.lock.run(k, async () => {
      const c = this.newChain();
      await this.save(k, { chains: [c] });
      return this.distributionOf(groupId, c);
    });
  }

  /** Encrypts and signs a group message. Our advanced chain is persisted before it resolves. */
  encrypt(groupId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    const k = this.key(groupId, this.o.address);
    return this.lock.run(k, async () => {
      const r = await this.load(k);
      const c = r.chains[0];
      if (!c || !c.signingPrivate) throw new CryptoError('no_sender_key', 'create a distribution first');
      const [messageKey, next] = step(c.chainKey);
      const iteration = c.iteration;
      if (iteration >= 0xffffffff) throw new CryptoError('invalid_state', 'chain exhausted; rotate');
      await this.save(k, { chains: [{ ...c, chainKey: next, iteration: iteration + 1 }] });
      const { key, nonce } = messageKeyMaterial(messageKey, KdfLabel.senderMessageKeys);
      const ad = bindingInput(this.o.address, signedPart(groupId, c.chainId, iteration, new Uint8Array(0)));
      const ciphertext = this.o.ctx.aead.seal('chacha20-poly1305', key, nonce, plaintext, ad);
      const signed = signedPart(groupId, c.chainId, iteration, ciphertext);
      return concat(signed, sign(c.signingPrivate, bindingInput(this.o.address, signed)));
    });
  }

  /**
   * Verifies the signature, then decrypts a group message from `sender`. State is committed
   * only after both succeeded.
   */
  decrypt(sender: ProtocolAddress, groupId: string, message: Uint8Array): Promise<Uint8Array> {
    const k = this.key(groupId, sender);
    return this.lock.run(k, async () => {
      decodeEnvelope(message, MessageType.SenderKeyMessage); // type check before anything else
      if (message.length < 66) throw new CryptoError('invalid_message', 'too short');
      const signed = message.subarray(0, message.length - 64);
      const signature = message.subarray(message.length - 64);
      const r0 = new ByteReader(decodeEnvelope(signed, MessageType.SenderKeyMessage));
      const msgGroup = r0.string();
      const chainId = r0.u32();
      const iteration = r0.u32();
      const ciphertext = r0.bytes();
      r0.end();
      if (msgGroup !== groupId) throw new CryptoError('invalid_message', 'message is for another group');
      const r = await this.load(k);
      const idx = r.chains.findIndex((c) => c.chainId === chainId);
      const chain = r.chains[idx];
      if (!chain) throw new CryptoError('no_sender_key', 'unknown sender chain');
      verifyOrThrow(chain.signingPublic, bindingInput(sender, signed), signature, 'group message');

      const c = structuredClone(chain);
      const now = this.o.ctx.now();
      c.skipped = c.skipped.filter((s) => s.expiresAt > now);
      let messageKey: Uint8Array;
      if (iteration < c.startIteration) throw new CryptoError('no_sender_key', 'message predates our key');
      if (iteration < c.iteration) {
        const at = c.skipped.findIndex((s) => s.iteration === iteration);
        if (at < 0) throw new CryptoError('duplicate_message', 'message key already used or expired');
        messageKey = c.skipped[at]!.messageKey;
        c.skipped.splice(at, 1);
      } else {
        if (iteration - c.iteration > MAX_SKIP) throw new CryptoError('too_many_skipped', 'too far ahead');
        const expiresAt = now + (this.o.skippedKeyTtlMs ?? DEFAULT_SKIPPED_KEY_TTL_MS);
        while (c.iteration < iteration) {
          const [mk, next] = step(c.chainKey);
          c.skipped.push({ iteration: c.iteration, messageKey: mk, expiresAt });
          c.chainKey = next;
          c.iteration += 1;
        }
        if (c.skipped.length > MAX_STORED_SKIPPED) c.skipped.splice(0, c.skipped.length - MAX_STORED_SKIPPED);
        const [mk, next] = step(c.chainKey);
        messageKey = mk;
        c.chainKey = next;
        c.iteration += 1;
      }
      const { key, nonce } = messageKeyMaterial(messageKey, KdfLabel.senderMessageKeys);
      const ad = bindingInput(sender, signedPart(groupId, chainId, iteration, new Uint8Array(0)));
      const plaintext = this.o.ctx.aead.open('chacha20-poly1305', key, nonce, ciphertext, ad);
      const chains = [...r.chains];
      chains[idx] = c;
      await this.save(k, { chains });
      return plaintext;
    });
  }

  /**
   * Stores a distribution received from `sender` inside a pairwise session. Internal: use
   * `openPairwiseMessage`, which guarantees the distribution came through a session.
   */
  async _processDistribution(sender: ProtocolAddress, d: SenderKeyDistribution): Promise<void> {
    assertEd25519PublicKey(d.signingPublic);
    const k = this.key(d.groupId, sender);
    await this.lock.run(k, async () => {
      const r = await this.load(k);
      if (r.chains.some((c) => c.chainId === d.chainId)) return; // already known: never regress
      const chain: SenderChain = {
        chainId: d.chainId,
        iteration: d.iteration,
        startIteration: d.iteration,
        chainKey: d.chainKey,
        signingPublic: d.signingPublic,
        signingPrivate: null,
        skipped: [],
      };
      await this.save(k, { chains: [chain, ...r.chains].slice(0, MAX_SENDER_CHAINS) });
    });
  }

  /** Drops every chain of `sender` in `groupId` (a removed member or device). */
  async forgetSender(groupId: string, sender: ProtocolAddress): Promise<void> {
    const k = this.key(groupId, sender);
    await this.lock.run(k, () => this.o.store.deleteSenderKey(k));
  }
}

/**
 * End-to-end encrypted messaging for one registered device (PRODUCT.md §5):
 *
 * - Channels (`sender_key`): one Sender Key chain of ours per channel. Before a message, every
 *   device of every member (and our own other devices) that lacks the current chain gets it in
 *   a pairwise Double Ratchet message sent to its device inbox. When a device that had the
 *   chain is no longer among the members' devices (someone left, was removed, or removed a
 *   device), the chain is rotated first and the new one goes to the remaining devices only.
 *   A newcomer gets the chain at its current iteration: nothing sent before it joined.
 * - DMs (`pairwise`): the content is encrypted to every device of every member and to our
 *   own other devices; the per-device ciphertexts are packed into one body (pairwise-body.ts).
 * - Receiving never yields text for a message that did not authenticate: `decryptMessage`
 *   answers ok / failed (with a reason) / waiting_for_key, and the `retry` event names
 *   messages worth decrypting again once a key arrived or an identity was accepted.
 * - Trust on first use: a contact whose identity key changed blocks sending to them
 *   (`untrusted_identity`, with the user ids) until `accept(userId)`.
 *
 * The app wires the transport: `send` (message.send or REST) and `sendDeviceMessages`
 * (device.send or REST) go out; messages and device messages come in through
 * `decryptMessage`, `receiveDeviceMessage` / `handleEvent`, and `syncDeviceInbox`.
 */
import {
  acceptIdentity,
  addressKey,
  checkIdentity,
  defaultContext,
  isCryptoError,
  openPairwiseMessage,
  parseAddressKey,
  safetyNumber,
  sameAddress,
  sealSenderKeyDistribution,
  SenderKeyManager,
  SessionManager,
  type CryptoContext,
  type ProtocolAddress,
} from '@chatalot/crypto';
import {
  DEVICE_MESSAGE_LIMITS,
  DeviceMessage as DeviceMessageSchema,
  DeviceSendResult,
  KEY_LIMITS,
  LIMITS,
  type DeviceMessage,
  type Message,
  type MessageAck,
  type SendDeviceMessages,
  type SendMessage,
} from '@chatalot/protocol';
import type { DeviceMessageListResponse } from './api.js';
import { equalBytes, fromBase64, randomBytes, toBase64, toBase64Url, utf8 } from './bytes.js';
import { decodeContent, encodeContent, type MessageContent } from './content.js';
import { DeviceDirectory } from './device-directory.js';
import { E2EError, isE2EError } from './errors.js';
import { KeyedLock, mapLimit } from './lock.js';
import { decodePairwiseBody, encodePairwiseBody, type PairwiseEntry } from './pairwise-body.js';
import { ContactVerification } from './verification.js';
import { bundleFromWire } from './wire.js';
import {
  chainIdOf,
  digestOf,
  failed,
  MAX_KNOWN_CHAINS,
  MAX_WAITING,
  type CachedPlaintext,
  type ContactTrust,
  type DecryptFailureReason,
  type DecryptResult,
  type DeviceMessageResult,
  type DistributionState,
  type E2EEvents,
  type E2EMessengerOptions,
  type SendExtras,
} from './messenger-types.js';

export type {
  ContactTrust,
  DecryptFailureReason,
  DecryptResult,
  DeviceMessageResult,
  E2EEvents,
  E2EMessengerOptions,
  SendExtras,
} from './messenger-types.js';

export class E2EMessenger {
  readonly sessions: SessionManager;
  readonly senderKeys: SenderKeyManager;
  readonly directory: DeviceDirectory;
  /** Verified contacts (safety numbers compared). */
  readonly verification: ContactVerification;
  private readonly ctx: CryptoContext;
  private readonly lock = new KeyedLock();
  private inbox: Promise<unknown> = Promise.resolve();
  private readonly waitingForKey = new Map<string, Map<string, Message>>();
  private readonly waitingForTrust = new Map<string, Map<string, Message>>();
  private readonly notified = new Set<string>();
  private readonly listeners: { [K in keyof E2EEvents]: Set<(v: E2EEvents[K]) => void> } = {
    retry: new Set(),
    identityChanged: new Set(),
  };

  constructor(private readonly o: E2EMessengerOptions) {
    this.ctx = o.ctx ?? defaultContext();
    const address = { userId: o.device.userId, deviceId: o.device.deviceId };
    this.sessions = new SessionManager({
      ctx: this.ctx,
      identity: o.device.identity,
      address,
      sessions: o.store,
      preKeys: o.store,
      trust: o.store,
    });
    this.senderKeys = new SenderKeyManager({ ctx: this.ctx, address, store: o.store });
    this.directory = new DeviceDirectory(o.keys, this.ctx.now, o.deviceListTtlMs);
    this.verification = new ContactVerification(o.store, this.ctx.now);
  }

  /** This device's address. */
  get address(): ProtocolAddress {
    return { userId: this.o.device.userId, deviceId: this.o.device.deviceId };
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof E2EEvents>(event: K, listener: (value: E2EEvents[K]) => void): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  private emit<K extends keyof E2EEvents>(event: K, value: E2EEvents[K]): void {
    for (const l of this.listeners[event]) {
      try {
        l(value);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  // ---------------------------------------------------------------- sending

  /**
   * Encrypts `content` for a channel with our Sender Key, distributing (or rotating) the key
   * first as needed. Resolves with the `message.send` input once every state change is
   * stored. Throws E2EError `untrusted_identity` (with `userIds`) while a member's identity
   * change is not accepted, `too_large` beyond the ciphertext limit.
   */
  encryptChannelMessage(channelId: string, content: MessageContent, extras: SendExtras = {}): Promise<SendMessage> {
    return this.lock.run(`channel:${channelId}`, async () => {
      const plaintext = encodeContent(channelId, content);
      if (plaintext.length + utf8(channelId).length + 98 > LIMITS.messageCiphertextBytes) {
        throw new E2EError('too_large', 'message too large');
      }
      const targets = await this.resolveTargets(await this.o.channelMembers(channelId));
      const chainId = await this.distribute(channelId, targets);
      const ciphertext = toBase64(await this.senderKeys.encrypt(channelId, plaintext));
      await this.rememberSent(channelId, ciphertext, content);
      return this.sendInput(channelId, ciphertext, { scheme: 'sender_key', distribution_id: String(chainId) }, extras);
    });
  }

  /**
   * Encrypts `content` for a DM (or group DM): one Double Ratchet message per device of every
   * member and of our own other devices, packed into one body.
   */
  encryptDirectMessage(channelId: string, content: MessageContent, extras: SendExtras = {}): Promise<SendMessage> {
    return this.lock.run(`channel:${channelId}`, async () => {
      const plaintext = encodeContent(channelId, content);
      const targets = await this.resolveTargets(await this.o.channelMembers(channelId));
      if (!targets.some((t) => t.userId !== this.o.device.userId)) {
        throw new E2EError('no_recipients', 'no member of this conversation has a registered device');
      }
      let estimate = 3;
      for (const t of targets) estimate += plaintext.length + 170 + utf8(t.userId).length;
      if (estimate > LIMITS.messageCiphertextBytes) throw new E2EError('too_large', 'message too large');
      const ready = await this.ensureSessions(targets);
      const entries: PairwiseEntry[] = [];
      for (const address of ready) {
        entries.push({
          address,
          ciphertext: await this.guard(address, () => this.sessions.encrypt(address, plaintext)),
        });
      }
      const body = encodePairwiseBody(entries);
      if (body.length > LIMITS.messageCiphertextBytes) throw new E2EError('too_large', 'message too large');
      const ciphertext = toBase64(body);
      await this.rememberSent(channelId, ciphertext, content);
      return this.sendInput(channelId, ciphertext, { scheme: 'pairwise' }, extras);
    });
  }

  /** Encrypts and sends a channel message through `options.send`. */
  async sendChannelMessage(channelId: string, content: MessageContent, extras?: SendExtras): Promise<MessageAck> {
    return this.requireSend()(await this.encryptChannelMessage(channelId, content, extras));
  }

  /** Encrypts and sends a DM through `options.send`. */
  async sendDirectMessage(channelId: string, content: MessageContent, extras?: SendExtras): Promise<MessageAck> {
    return this.requireSend()(await this.encryptDirectMessage(channelId, content, extras));
  }

  /**
   * A new ciphertext for editing `message` (one of ours), in the same scheme. Pass it as
   * `message.edit`'s `ciphertext`.
   */
  async encryptEdit(message: Message, content: MessageContent): Promise<string> {
    const input =
      message.encryption.scheme === 'sender_key'
        ? await this.encryptChannelMessage(message.channel_id, content)
        : await this.encryptDirectMessage(message.channel_id, content);
    return input.ciphertext;
  }

  /**
   * Replaces our Sender Key chain for a channel before the next message (call it on
   * `member.kicked`, a ban, a leave or a removed device; sends also rotate by themselves when
   * a device that had the chain is no longer among the members').
   */
  rotateChannel(channelId: string): Promise<void> {
    return this.lock.run(`channel:${channelId}`, async () => {
      const key = `m/dist/${channelId}`;
      const state = await this.o.store.read<DistributionState>(key);
      if (state) await this.o.store.write(key, { ...state, rotate: true });
    });
  }

  private requireSend(): (input: SendMessage) => Promise<MessageAck> {
    const send = this.o.send;
    if (!send) throw new Error('E2EMessenger: no send function was configured');
    return (input) => send(input);
  }

  private sendInput(
    channelId: string,
    ciphertext: string,
    encryption: Omit<SendMessage['encryption'], 'device_id'>,
    extras: SendExtras,
  ): SendMessage {
    const { nonce, ...rest } = extras;
    return {
      ...rest,
      channel_id: channelId,
      nonce: nonce ?? toBase64Url(randomBytes(16)),
      ciphertext,
      encryption: { ...encryption, device_id: this.o.device.deviceId },
    };
  }

  /** Our own sends cannot be decrypted by this device later: keep their content (until the echo is cached). */
  private async rememberSent(channelId: string, ciphertext: string, content: MessageContent): Promise<void> {
    await this.o.store.write(`m/sent/${await digestOf(ciphertext)}`, { channelId, content });
  }

  /** Runs an encryption for one device, turning an identity refusal into E2EError with the user. */
  private async guard<T>(address: ProtocolAddress, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isCryptoError(err, 'untrusted_identity') && address.userId !== this.o.device.userId) {
        this.notifyChanged(address.userId);
        throw new E2EError('untrusted_identity', `identity of ${address.userId} changed`, [address.userId]);
      }
      throw err;
    }
  }

  /**
   * Every device to encrypt to: each member's devices (identity checked against the trust
   * store, TOFU on first sight) and our own other devices.
   */
  private async resolveTargets(memberIds: readonly string[]): Promise<ProtocolAddress[]> {
    const me = this.address;
    const users = [...new Set([...memberIds, me.userId])];
    const lists = await mapLimit(users, 8, (u) => this.directory.get(u));
    const targets: ProtocolAddress[] = [];
    const untrusted: string[] = [];
    for (const list of lists) {
      if (!list.identityKey || list.deviceIds.length === 0) continue;
      if (list.userId === me.userId) {
        if (!equalBytes(list.identityKey, this.o.device.identity.publicKey)) {
          throw new E2EError('own_identity_changed', 'the server lists another identity key for this account');
        }
        for (const d of list.deviceIds) if (d !== me.deviceId) targets.push({ userId: me.userId, deviceId: d });
        continue;
      }
      if (!(await this.checkContact(list.userId, list.identityKey))) {
        untrusted.push(list.userId);
        continue;
      }
      for (const d of list.deviceIds) targets.push({ userId: list.userId, deviceId: d });
    }
    if (untrusted.length > 0) {
      throw new E2EError('untrusted_identity', `identity changed: ${untrusted.join(', ')}`, untrusted);
    }
    return targets;
  }

  /** TOFU check of a contact's listed identity key; false (and the event) when it changed. */
  private async checkContact(userId: string, identityKey: Uint8Array): Promise<boolean> {
    try {
      await checkIdentity(this.o.store, userId, identityKey, this.ctx.now());
      return true;
    } catch (err) {
      if (!isCryptoError(err, 'untrusted_identity')) throw err;
      this.notifyChanged(userId);
      return false;
    }
  }

  /**
   * Starts sessions with the devices that have none (one bundle fetch per user and 10
   * devices). Returns the targets that have a session, in order; devices the server no longer
   * lists, or whose bundle fails verification, are left out.
   */
  private async ensureSessions(targets: readonly ProtocolAddress[]): Promise<ProtocolAddress[]> {
    const byUser = new Map<string, ProtocolAddress[]>();
    for (const t of targets) byUser.set(t.userId, [...(byUser.get(t.userId) ?? []), t]);
    const ready = new Set<string>();
    const untrusted = new Set<string>();
    await mapLimit([...byUser], 4, ([userId, addresses]) =>
      this.lock.run(`sessions:${userId}`, async () => {
        const missing: ProtocolAddress[] = [];
        for (const a of addresses) {
          if (await this.sessions.hasSession(a)) ready.add(addressKey(a));
          else missing.push(a);
        }
        for (let i = 0; i < missing.length; i += KEY_LIMITS.devicesPerFetch) {
          const chunk = missing.slice(i, i + KEY_LIMITS.devicesPerFetch);
          const res = await this.o.keys.bundles(
            userId,
            chunk.map((a) => a.deviceId),
          );
          if (res.identity_key === null || res.user_id !== userId) continue;
          for (const b of res.bundles) {
            const address = chunk.find((a) => a.deviceId === b.device_id);
            if (!address) continue;
            try {
              await this.sessions.processPreKeyBundle(bundleFromWire(userId, res.identity_key, b));
              ready.add(addressKey(address));
            } catch (err) {
              if (isCryptoError(err, 'untrusted_identity') && userId !== this.o.device.userId) {
                this.notifyChanged(userId);
                untrusted.add(userId);
                break;
              }
              // A bundle that does not verify (bad signature, bad key) is skipped.
              if (isCryptoError(err) || isE2EError(err, 'invalid_encoding')) continue;
              throw err;
            }
          }
        }
      }),
    );
    if (untrusted.size > 0) {
      throw new E2EError('untrusted_identity', `identity changed: ${[...untrusted].join(', ')}`, [...untrusted]);
    }
    return targets.filter((t) => ready.has(addressKey(t)));
  }

  /** Makes sure every target holds our current chain for `channelId`; returns its chain id. */
  private async distribute(channelId: string, targets: readonly ProtocolAddress[]): Promise<number> {
    const key = `m/dist/${channelId}`;
    let distribution = await this.senderKeys.createDistribution(channelId);
    let chainId = chainIdOf(distribution, 4);
    let state = await this.o.store.read<DistributionState>(key);
    if (!state || state.chainId !== chainId) state = { chainId, delivered: [] };
    const wanted = new Set(targets.map(addressKey));
    if (state.rotate || state.delivered.some((k) => !wanted.has(k))) {
      distribution = await this.senderKeys.rotate(channelId);
      chainId = chainIdOf(distribution, 4);
      state = { chainId, delivered: [] };
      await this.o.store.write(key, state);
    }
    const delivered = new Set(state.delivered);
    const missing = targets.filter((t) => !delivered.has(addressKey(t)));
    if (missing.length === 0) return chainId;
    const ready = await this.ensureSessions(missing);
    const envelopes: SendDeviceMessages['messages'] = [];
    for (const address of ready) {
      const sealed = await this.guard(address, () => sealSenderKeyDistribution(this.sessions, address, distribution));
      envelopes.push({ user_id: address.userId, device_id: address.deviceId, ciphertext: toBase64(sealed) });
    }
    const refused = await this.sendEnvelopes(envelopes);
    const got = ready.map(addressKey).filter((k) => !refused.has(k));
    await this.o.store.write(key, { chainId, delivered: [...delivered, ...got] });
    return chainId;
  }

  /** Sends in batches; returns the address keys the server stored nothing for. */
  private async sendEnvelopes(envelopes: SendDeviceMessages['messages']): Promise<Set<string>> {
    const refused = new Set<string>();
    for (let i = 0; i < envelopes.length; i += DEVICE_MESSAGE_LIMITS.perSend) {
      const result = DeviceSendResult.safeParse(
        await this.o.sendDeviceMessages({
          sender_device_id: this.o.device.deviceId,
          messages: envelopes.slice(i, i + DEVICE_MESSAGE_LIMITS.perSend),
        }),
      );
      if (!result.success) continue;
      for (const a of [...result.data.unknown_devices, ...result.data.full_devices]) {
        refused.add(addressKey({ userId: a.user_id, deviceId: a.device_id }));
      }
      // An unknown device means our list of that user's devices is stale.
      for (const a of result.data.unknown_devices) this.directory.invalidate(a.user_id);
    }
    return refused;
  }

  // ---------------------------------------------------------------- receiving

  /**
   * Decrypts a message (live or from history). Never throws and never returns text for a
   * message that did not authenticate. Successful results are cached per message, so asking
   * again (history reloads) is cheap and works for pairwise messages too.
   */
  async decryptMessage(message: Message): Promise<DecryptResult> {
    try {
      return await this.decryptInner(message);
    } catch (err) {
      if (isCryptoError(err) || isE2EError(err)) return failed(err.code, err.message);
      return failed('internal_error', err instanceof Error ? err.message : String(err));
    }
  }

  /** Drops a message's cached plaintext (deleted or expired messages). */
  forgetMessage(messageId: string): Promise<void> {
    return this.o.store.kv.delete(`m/pt/${messageId}`);
  }

  private async decryptInner(message: Message): Promise<DecryptResult> {
    if (message.deleted_at !== null || message.ciphertext === '') return failed('deleted');
    const deviceId = message.encryption.device_id;
    if (deviceId === undefined) return failed('missing_device_id');
    const sender: ProtocolAddress = { userId: message.sender_id, deviceId };
    const digest = await digestOf(message.ciphertext);
    const cacheKey = `m/pt/${message.id}`;
    const binding = {
      digest,
      sender: addressKey(sender),
      channelId: message.channel_id,
      scheme: message.encryption.scheme,
    };
    const cached = await this.o.store.read<CachedPlaintext>(cacheKey);
    let content: MessageContent;
    if (
      cached &&
      cached.digest === binding.digest &&
      cached.sender === binding.sender &&
      cached.channelId === binding.channelId &&
      cached.scheme === binding.scheme
    ) {
      content = cached.content;
    } else if (sameAddress(sender, this.address)) {
      const sentKey = `m/sent/${digest}`;
      const own = await this.o.store.read<{ channelId: string; content: MessageContent }>(sentKey);
      if (!own || own.channelId !== message.channel_id) return failed('own_message_not_stored');
      content = own.content;
      await this.o.store.write(cacheKey, { ...binding, content } satisfies CachedPlaintext);
      await this.o.store.kv.delete(sentKey);
    } else {
      const bytes = fromBase64(message.ciphertext, 'message ciphertext');
      let plaintext: Uint8Array | DecryptResult;
      if (message.encryption.scheme === 'sender_key') plaintext = await this.decryptGroup(message, sender, bytes);
      else if (message.encryption.scheme === 'pairwise') plaintext = await this.decryptPairwise(message, sender, bytes);
      else return failed('unknown_scheme');
      if (!(plaintext instanceof Uint8Array)) return plaintext;
      content = decodeContent(message.channel_id, plaintext);
      await this.o.store.write(cacheKey, { ...binding, content } satisfies CachedPlaintext);
    }
    const verified =
      sender.userId === this.o.device.userId || (await this.o.store.loadTrust(sender.userId))?.state === 'verified';
    return { status: 'ok', plaintext: content.text, content, verified, sender };
  }

  private async decryptGroup(
    message: Message,
    sender: ProtocolAddress,
    bytes: Uint8Array,
  ): Promise<Uint8Array | DecryptResult> {
    const chainId = chainIdOf(bytes, 3);
    try {
      return await this.senderKeys.decrypt(sender, message.channel_id, bytes);
    } catch (err) {
      if (!isCryptoError(err, 'no_sender_key')) throw err;
      const known = (await this.o.store.read<number[]>(this.chainsKey(message.channel_id, sender))) ?? [];
      if (known.includes(chainId)) return failed('no_sender_key', 'the message predates our key');
      this.wait(this.waitingForKey, `${message.channel_id}\n${addressKey(sender)}`, message);
      return { status: 'waiting_for_key' };
    }
  }

  private async decryptPairwise(
    message: Message,
    sender: ProtocolAddress,
    bytes: Uint8Array,
  ): Promise<Uint8Array | DecryptResult> {
    const mine = decodePairwiseBody(bytes).find((e) => sameAddress(e.address, this.address));
    if (!mine) return failed('not_for_this_device');
    try {
      return await this.sessions.decrypt(sender, mine.ciphertext);
    } catch (err) {
      if (isCryptoError(err, 'untrusted_identity') && sender.userId !== this.o.device.userId) {
        this.notifyChanged(sender.userId);
        this.wait(this.waitingForTrust, sender.userId, message);
      }
      throw err;
    }
  }

  private chainsKey(channelId: string, sender: ProtocolAddress): string {
    return `m/chains/${channelId}\n${addressKey(sender)}`;
  }

  private wait(map: Map<string, Map<string, Message>>, key: string, message: Message): void {
    const waiting = map.get(key) ?? new Map<string, Message>();
    waiting.set(message.id, message);
    if (waiting.size > MAX_WAITING) waiting.delete(waiting.keys().next().value!);
    map.set(key, waiting);
  }

  private release(map: Map<string, Map<string, Message>>, key: string): void {
    const waiting = map.get(key);
    if (!waiting) return;
    map.delete(key);
    this.emit('retry', [...waiting.values()]);
  }

  /**
   * Processes one device message (a pairwise message to this device: a Sender Key
   * distribution, or an application payload). Runs one at a time, in call order. Ack the
   * message afterwards whatever the result: `held` ones are kept in the store.
   */
  receiveDeviceMessage(message: DeviceMessage): Promise<DeviceMessageResult> {
    const run = this.inbox.then(() => this.processDeviceMessage(message));
    this.inbox = run.catch(() => undefined);
    return run;
  }

  private async processDeviceMessage(dm: DeviceMessage): Promise<DeviceMessageResult> {
    const sender: ProtocolAddress = { userId: dm.sender_id, deviceId: dm.sender_device_id };
    try {
      const bytes = fromBase64(dm.ciphertext, 'device message');
      const got = await openPairwiseMessage(this.sessions, this.senderKeys, sender, bytes);
      if (got.kind === 'application') return { status: 'ok', kind: 'application', sender };
      const key = this.chainsKey(got.groupId, sender);
      const known = (await this.o.store.read<number[]>(key)) ?? [];
      if (!known.includes(got.chainId)) {
        await this.o.store.write(key, [got.chainId, ...known].slice(0, MAX_KNOWN_CHAINS));
      }
      this.release(this.waitingForKey, `${got.groupId}\n${addressKey(sender)}`);
      return { status: 'ok', kind: 'sender_key_distribution', channelId: got.groupId, sender };
    } catch (err) {
      if (isCryptoError(err, 'untrusted_identity') && sender.userId !== this.o.device.userId) {
        this.notifyChanged(sender.userId);
        await this.o.store.write(`m/held/${sender.userId}\n${dm.id}`, dm);
        return { status: 'held', reason: 'untrusted_identity', sender };
      }
      const reason: DecryptFailureReason = isCryptoError(err) || isE2EError(err) ? err.code : 'internal_error';
      return { status: 'failed', reason, sender };
    }
  }

  /**
   * Fetches and processes everything waiting in this device's inbox (oldest first), acking
   * each page after processing. Call it at start and after reconnecting.
   */
  async syncDeviceInbox(inbox: {
    list(deviceId: number): Promise<DeviceMessageListResponse>;
    ack(deviceId: number, ids: string[]): Promise<unknown>;
  }): Promise<DeviceMessageResult[]> {
    const results: DeviceMessageResult[] = [];
    for (;;) {
      const page = await inbox.list(this.o.device.deviceId);
      for (const m of page.messages) results.push(await this.receiveDeviceMessage(m));
      if (page.messages.length > 0)
        await inbox.ack(
          this.o.device.deviceId,
          page.messages.map((m) => m.id),
        );
      if (!page.has_more || page.messages.length === 0) return results;
    }
  }

  /**
   * Handles gateway events the E2E layer cares about: `device.message` (processed, then acked
   * through `ackDeviceMessages`), `device.added` / `device.removed` (device lists), and
   * `identity.changed` (trust). Others are ignored.
   */
  async handleEvent(event: { type: string; [k: string]: unknown }): Promise<void> {
    switch (event.type) {
      case 'device.message': {
        if (event.device_id !== this.o.device.deviceId) return;
        const parsed = DeviceMessageSchema.safeParse(event.message);
        if (!parsed.success) return;
        await this.receiveDeviceMessage(parsed.data);
        await this.o.ackDeviceMessages?.([parsed.data.id]);
        return;
      }
      case 'device.added':
      case 'device.removed':
        if (typeof event.user_id === 'string') this.directory.invalidate(event.user_id);
        return;
      case 'identity.changed': {
        if (typeof event.user_id !== 'string') return;
        this.directory.invalidate(event.user_id);
        if (event.user_id === this.o.device.userId) return;
        const list = await this.directory.get(event.user_id);
        if (list.identityKey) await this.checkContact(event.user_id, list.identityKey);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- trust

  private notifyChanged(userId: string): void {
    if (this.notified.has(userId)) return;
    this.notified.add(userId);
    this.emit('identityChanged', userId);
  }

  /** A contact's trust state, or undefined before we ever saw their key. */
  async trust(userId: string): Promise<ContactTrust | undefined> {
    const rec = await this.o.store.loadTrust(userId);
    if (!rec) return undefined;
    const me = { userId: this.o.device.userId, identityKey: this.o.device.identity.publicKey };
    const out: ContactTrust = {
      userId,
      state: rec.state,
      identityKey: rec.identityKey,
      safetyNumber: safetyNumber(me, { userId, identityKey: rec.identityKey }),
      previouslyVerified: await this.verification.wasVerifiedBeforeChange(userId, rec),
    };
    if (rec.pendingIdentityKey) {
      out.pendingIdentityKey = rec.pendingIdentityKey;
      out.pendingSafetyNumber = safetyNumber(me, { userId, identityKey: rec.pendingIdentityKey });
    }
    const verifiedAt = await this.verification.verifiedAt(userId, rec);
    if (verifiedAt !== undefined) out.verifiedAt = verifiedAt;
    return out;
  }

  /**
   * A contact's trust state, looking their identity key up (and recording it, trust on first
   * use) when this device never saw it; undefined while they have no key at all.
   */
  async contactTrust(userId: string): Promise<ContactTrust | undefined> {
    if (userId === this.o.device.userId) return undefined;
    if (!(await this.o.store.loadTrust(userId))) {
      const list = await this.directory.get(userId);
      if (!list.identityKey) return undefined;
      await this.checkContact(userId, list.identityKey);
    }
    return this.trust(userId);
  }

  /** Contacts whose identity changed and is not accepted yet (sending to them is paused). */
  async untrustedContacts(): Promise<string[]> {
    const out: string[] = [];
    for (const userId of await this.o.store.trustedUsers()) {
      if ((await this.o.store.loadTrust(userId))?.state === 'changed') out.push(userId);
    }
    return out;
  }

  /**
   * Accepts a contact's changed identity key (after the person acknowledged the warning):
   * old sessions with them are dropped, our channel chains they held are rotated before the
   * next message, held device messages from them are processed, and the `retry` event names
   * their messages that failed with `untrusted_identity`.
   */
  async accept(userId: string): Promise<void> {
    const rec = await this.o.store.loadTrust(userId);
    if (!rec || rec.state !== 'changed' || !rec.pendingIdentityKey) return;
    await acceptIdentity(this.o.store, userId, rec.pendingIdentityKey, this.ctx.now());
    await this.verification.clear(userId);
    this.notified.delete(userId);
    this.directory.invalidate(userId);
    for (const key of await this.o.store.sessionAddresses()) {
      const address = parseAddressKey(key);
      if (address.userId === userId) await this.sessions.deleteSession(address);
    }
    // Their old devices held our chains: replace those chains before we send again.
    for (const key of await this.o.store.kv.keys('m/dist/')) {
      const state = await this.o.store.read<DistributionState>(key);
      if (state && state.delivered.some((k) => parseAddressKey(k).userId === userId)) {
        await this.o.store.write(key, { ...state, rotate: true });
      }
    }
    const held: DeviceMessage[] = [];
    for (const key of await this.o.store.kv.keys(`m/held/${userId}\n`)) {
      const dm = await this.o.store.read<DeviceMessage>(key);
      await this.o.store.kv.delete(key);
      if (dm) held.push(dm);
    }
    held.sort((a, b) => a.created_at - b.created_at);
    for (const dm of held) await this.receiveDeviceMessage(dm);
    this.release(this.waitingForTrust, userId);
  }

  /** Marks the contact's current key verified (safety numbers compared in person or by QR). */
  markVerified(userId: string): Promise<void> {
    return this.verification.verify(userId);
  }

  /** Takes a verification back (the key stays trusted, unverified). */
  removeVerification(userId: string): Promise<void> {
    return this.verification.unverify(userId);
  }
}

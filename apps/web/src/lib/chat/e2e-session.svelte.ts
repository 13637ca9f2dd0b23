/**
 * The end-to-end encryption session of the signed-in user in this browser: one E2EClient from
 * @chatalot/client over an encrypted IndexedDB key store (`chatalot-e2e-<userId>`), started the
 * first time a conversation opens and stopped at sign-out.
 *
 * - Registration: the first browser of an account creates the identity key and registers as a
 *   device. A later browser of the same account cannot (the identity key lives on the first
 *   one): `start` fails with `provisioning_required` and the chat view offers to link it from
 *   a device that has the key (trust/device-link.svelte.ts, then `startLinked`), to restore a
 *   key backup, or to start over with a new identity (`resetIdentity`).
 * - Trust: `verified` holds the contacts whose safety number this device verified (shields in
 *   the UI); `changed` those whose key changed and was not accepted yet.
 * - Transport: messages go out through the app's GatewayClient (`message.send`, by the chat
 *   view); device messages (Sender Key distributions) and their acks through the REST device
 *   inbox (GatewayClient has no `device.send` method). Once the device exists the gateway socket
 *   is restarted with its `device_id`, so this device's `device.message` events reach it; the
 *   inbox is synced at start and after every (re)connect.
 * - Gateway events for the E2E layer (`device.message`, `keys.low`, `device.*`,
 *   `identity.changed`) go to `handleEvent` one at a time; member changes drop the cached member
 *   lists, so the next send encrypts to the current members (and rotates the channel key when a
 *   device that had it is gone).
 * - One tab at a time: the key store must not run ratchets from two tabs, so a Web Lock per
 *   user is held while the session runs; a second tab waits and says so.
 * - Decryption runs one message at a time (a DM message decrypts once; the result is cached by
 *   the SDK), so the same message asked for twice never races itself.
 */
import {
  ApiError,
  deleteIndexedDbKeyStore,
  E2EClient,
  isE2EError,
  openIndexedDbKeyStore,
  type ContactTrust,
  type DecryptResult,
  type E2EClientOptions,
  type IndexedDbKeyStore,
} from '@chatalot/client';
import { ChannelMemberList, Dm, type Message } from '@chatalot/protocol';
import { untrack } from 'svelte';
import { SvelteSet } from 'svelte/reactivity';
import { realtime, type ReadyKind } from '$lib/realtime.svelte';
import { localSearch } from '$lib/search/local-search.svelte';
import { session } from '$lib/session.svelte';
import { workspace } from '$lib/workspace.svelte';
import { browserName } from './trust/device-name';

/** The identity key another device hands over when it links this browser. */
type IdentityKeyPair = NonNullable<E2EClientOptions['linkedIdentity']>;

export type E2EStatus =
  /** Nothing started (signed out, or no conversation opened yet). */
  | 'idle'
  /** Another tab of this browser holds the key store. */
  | 'waiting_for_tab'
  | 'starting'
  | 'ready'
  /** The account has an identity key this browser does not hold. */
  | 'provisioning_required'
  /** This browser's device was removed from the account (e.g. another device started over). */
  | 'not_registered'
  | 'error';

/** Someone in a conversation, as the chat view names them. */
export interface MemberCard {
  id: string;
  username: string;
  display_name: string;
  /** Group channels: their role in the channel's group. */
  groupRole?: 'admin' | 'member';
}

export type ConversationKind = 'channel' | 'dm';

/** Gateway events the E2E layer handles. */
const E2E_EVENTS = new Set(['device.message', 'keys.low', 'device.added', 'device.removed', 'identity.changed']);
/** Member lists are re-read after this long even without an event (a missed one, say). */
const MEMBERS_TTL_MS = 60_000;

export function keyStoreName(userId: string): string {
  return `chatalot-e2e-${userId}`;
}

function describeStartError(err: unknown): string {
  if (isE2EError(err, 'unavailable'))
    return 'This browser cannot keep encryption keys (IndexedDB or WebCrypto is unavailable, as in some private windows).';
  if (isE2EError(err, 'store_corrupt'))
    return 'The encryption keys stored in this browser could not be read (they may be damaged).';
  if (err instanceof ApiError && err.code === 'network_error') return 'The server could not be reached.';
  if (err instanceof ApiError && err.code === 'limit_reached')
    return 'Your account has the most devices it may have. Remove one in another browser first.';
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong while setting up encryption.';
}

class E2ESession {
  status = $state<E2EStatus>('idle');
  /** What went wrong, for `error`. */
  error = $state<string | null>(null);
  /** The E2E client while `ready`. */
  client = $state.raw<E2EClient | null>(null);
  /** Contacts whose identity key changed and was not accepted yet: sending to them is paused. */
  readonly changed = new SvelteSet<string>();
  /** Contacts whose safety number this device verified. */
  readonly verified = new SvelteSet<string>();

  private userId: string | null = null;
  private generation = 0;
  private kv: IndexedDbKeyStore | null = null;
  private releaseLock: (() => void) | null = null;
  private lockWait: AbortController | null = null;
  private detach: (() => void)[] = [];
  private decrypting: Promise<unknown> = Promise.resolve();
  private events: Promise<unknown> = Promise.resolve();
  private readonly retryListeners = new Set<(messages: Message[]) => void>();
  private readonly members = new Map<string, { at: number; value: Promise<MemberCard[]> }>();
  private readonly kinds = new Map<string, ConversationKind>();

  constructor() {
    realtime.on('event', (event) => this.onGatewayEvent(event));
    realtime.onReady((kind) => this.onReady(kind));
  }

  /** The signed-in user this session belongs to. */
  get user(): string | null {
    return this.userId;
  }

  /** Starts the session for `userId` unless it runs (or waits, or needs a decision) already. */
  ensure(userId: string): void {
    if (this.userId !== userId) this.stop();
    if (this.status !== 'idle') return;
    this.userId = userId;
    void this.run({});
  }

  /** Stops the session: keys leave memory, the key store closes, the tab lock is released. */
  stop(): void {
    this.generation++;
    for (const off of this.detach) off();
    this.detach = [];
    this.lockWait?.abort();
    this.lockWait = null;
    this.releaseLock?.();
    this.releaseLock = null;
    this.kv?.raw.close();
    this.kv = null;
    localSearch.close();
    this.client = null;
    this.userId = null;
    this.status = 'idle';
    this.error = null;
    this.changed.clear();
    this.verified.clear();
    this.members.clear();
    this.kinds.clear();
    this.restartedFor = null;
    this.decrypting = Promise.resolve();
    this.events = Promise.resolve();
  }

  /** Tries again after an error. */
  retry(): void {
    if (!this.userId || (this.status !== 'error' && this.status !== 'idle')) return;
    void this.run({});
  }

  /**
   * Starts over with a new identity key: the account's other devices are removed, this browser
   * cannot read messages encrypted for the old key, and contacts are warned that the key changed.
   */
  resetIdentity(): Promise<void> {
    return this.run({ resetIdentity: true });
  }

  /** Restores the identity key from an encrypted key backup, then registers this browser. */
  restoreBackup(blob: Uint8Array, passphrase: string): Promise<void> {
    return this.run({ backup: { blob, passphrase } });
  }

  /** Registers this browser with the identity key another device handed over by linking. */
  startLinked(identity: IdentityKeyPair): Promise<void> {
    return this.run({ linkedIdentity: identity });
  }

  /**
   * This browser's device was removed from the account: forget its keys and set it up again
   * (which then needs a key backup or a new identity, like any new browser).
   */
  async forgetThisDevice(): Promise<void> {
    const userId = this.userId;
    if (!userId) return;
    this.generation++;
    this.kv?.raw.close();
    this.kv = null;
    this.client = null;
    this.status = 'starting';
    try {
      await deleteIndexedDbKeyStore({ name: keyStoreName(userId) });
    } catch (err) {
      this.status = 'error';
      this.error = describeStartError(err);
      return;
    }
    await this.run({});
  }

  /** An encrypted backup of the identity key under `passphrase`, as a file to keep. */
  async createKeyBackup(passphrase: string): Promise<Blob> {
    const client = this.client;
    if (!client) throw new Error('Encryption is not set up in this browser');
    const bytes = await client.devices.createKeyBackup(passphrase);
    return new Blob([bytes.slice()], { type: 'application/octet-stream' });
  }

  private async run(options: {
    resetIdentity?: boolean;
    backup?: { blob: Uint8Array; passphrase: string };
    linkedIdentity?: IdentityKeyPair;
  }) {
    const userId = this.userId;
    if (!userId) return;
    const generation = ++this.generation;
    const current = () => generation === this.generation && this.userId === userId;
    this.error = null;
    try {
      if (!this.releaseLock) {
        await this.acquireTabLock(userId, current);
        if (!current()) return;
      }
      this.status = 'starting';
      this.kv ??= await openIndexedDbKeyStore({ name: keyStoreName(userId) });
      if (!current()) return;
      const client = await E2EClient.start({
        userId,
        kv: this.kv,
        api: session.client,
        channelMembers: async (channelId) => (await this.membersOf(channelId)).map((m) => m.id),
        ...(options.resetIdentity ? { resetIdentity: true } : {}),
        ...(options.backup ? { backup: options.backup } : {}),
        ...(options.linkedIdentity ? { linkedIdentity: options.linkedIdentity } : {}),
      });
      if (!current()) return;
      for (const off of this.detach) off();
      this.detach = [
        client.messenger.on('retry', (messages) => {
          for (const listener of [...this.retryListeners]) listener(messages);
        }),
        client.messenger.on('identityChanged', (contact) => {
          this.changed.add(contact);
          this.verified.delete(contact);
        }),
      ];
      this.client = client;
      for (const contact of await client.messenger.untrustedContacts()) this.changed.add(contact);
      for (const contact of await client.store.trustedUsers()) {
        if ((await client.store.loadTrust(contact))?.state === 'verified') this.verified.add(contact);
      }
      // The socket opened before this device existed (or for another one): sign it in again
      // with the device id, so this device's `device.message` events reach it. Its `ready`
      // then syncs the device inbox.
      const deviceId = client.messenger.address.deviceId;
      if (realtime.client && !this.socketHasDevice(deviceId)) realtime.restart({ deviceId });
      else this.syncInbox();
      this.status = 'ready';
      // Names this browser in the devices list, and says it was in use now (best effort).
      client.provisioning.reportDeviceLabel(deviceId, browserName()).catch(() => undefined);
      localSearch.open(userId, (message) => this.decrypt(message));
    } catch (err) {
      if (!current()) return;
      this.client = null;
      if (options.backup && !(err instanceof ApiError)) {
        // A wrong passphrase or a file that is not a backup of this account: choose again.
        this.status = 'provisioning_required';
        throw err;
      }
      if (options.linkedIdentity && !(err instanceof ApiError)) {
        // The handed-over key did not register (it is not this account's): link again.
        this.status = 'provisioning_required';
        throw err;
      }
      if (isE2EError(err, 'provisioning_required')) this.status = 'provisioning_required';
      else if (isE2EError(err, 'not_registered')) this.status = 'not_registered';
      else {
        this.status = 'error';
        this.error = describeStartError(err);
      }
      if (options.backup || options.linkedIdentity) throw err;
    }
  }

  private restartedFor: number | null = null;

  /** Whether the gateway socket already signs in with this device id (set by our last restart). */
  private socketHasDevice(deviceId: number): boolean {
    if (this.restartedFor === deviceId) return true;
    this.restartedFor = deviceId;
    return false;
  }

  /** Holds the per-user Web Lock for as long as the session runs; waits while another tab has it. */
  private acquireTabLock(userId: string, current: () => boolean): Promise<void> {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    if (!locks) return Promise.resolve();
    const name = `${keyStoreName(userId)}.tab`;
    return new Promise<void>((resolve, reject) => {
      const hold = () => {
        if (!current()) {
          resolve();
          return Promise.resolve();
        }
        return new Promise<void>((release) => {
          this.releaseLock = release;
          resolve();
        });
      };
      locks
        .request(name, { ifAvailable: true }, (lock) => {
          if (lock) return hold();
          // Another tab holds it: say so and wait until it is free (or this session stops).
          this.status = 'waiting_for_tab';
          const controller = new AbortController();
          this.lockWait = controller;
          locks.request(name, { signal: controller.signal }, hold).catch((err: unknown) => {
            if (controller.signal.aborted) resolve();
            else reject(err instanceof Error ? err : new Error(String(err)));
          });
          return undefined;
        })
        .catch((err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
    });
  }

  // Gateway events

  private onGatewayEvent(event: { type: string; [field: string]: unknown }): void {
    const client = this.client;
    if (!client) return;
    if (E2E_EVENTS.has(event.type)) {
      const own = client.messenger.address;
      if (
        event.user_id === own.userId &&
        ((event.type === 'device.removed' && event.device_id === own.deviceId) || event.type === 'identity.changed')
      ) {
        // This browser's device was removed (another device started over, or removed it): its
        // keys are of no use any more. Say so instead of failing every send.
        this.generation++;
        for (const off of this.detach) off();
        this.detach = [];
        this.client = null;
        this.status = 'not_registered';
        return;
      }
      this.events = this.events.then(() => client.handleEvent(event)).catch(() => undefined);
      return;
    }
    if (event.type.startsWith('member.') || event.type === 'dm.created' || event.type === 'channel.deleted') {
      // Someone joined, left or was removed: the next send encrypts to the current members.
      this.members.clear();
      if (event.type === 'member.joined' && typeof event.user_id === 'string') {
        client.messenger.directory.invalidate(event.user_id);
      }
    }
  }

  private onReady(kind: ReadyKind): void {
    if (!this.client) return;
    if (kind !== 'handover') {
      // Events sent while the socket was down are not replayed: drop what they would have changed.
      this.client.messenger.directory.invalidate();
      this.members.clear();
    }
    // Device messages wait in the inbox for a socket signed in with this device.
    this.syncInbox();
  }

  private syncInbox(): void {
    const client = this.client;
    if (!client) return;
    this.events = this.events.then(() => client.messenger.syncDeviceInbox(client.inbox)).catch(() => undefined);
  }

  // For the chat view

  /** Whether a conversation is a group channel or a DM (for reading its members). */
  registerKind(channelId: string, kind: ConversationKind): void {
    this.kinds.set(channelId, kind);
  }

  /** The members of a channel or DM (the signed-in user included), cached for a minute. */
  membersOf(channelId: string, fresh = false): Promise<MemberCard[]> {
    const hit = this.members.get(channelId);
    if (!fresh && hit && Date.now() - hit.at < MEMBERS_TTL_MS) return hit.value;
    const value = this.readMembers(channelId);
    const entry = { at: Date.now(), value };
    this.members.set(channelId, entry);
    value.catch(() => {
      if (this.members.get(channelId) === entry) this.members.delete(channelId);
    });
    return value;
  }

  private async readMembers(channelId: string): Promise<MemberCard[]> {
    const id = encodeURIComponent(channelId);
    const kind = this.kinds.get(channelId) ?? (workspace.dm(channelId) ? 'dm' : 'channel');
    if (kind === 'dm') {
      const dm = await session.client.authed(`/api/dms/${id}`, { response: Dm });
      const me = session.user;
      const others = dm.members.map((m) => ({ id: m.id, username: m.username, display_name: m.display_name }));
      return me ? [{ id: me.id, username: me.username, display_name: me.display_name }, ...others] : others;
    }
    const list = await session.client.authed(`/api/channels/${id}/members`, { response: ChannelMemberList });
    return list.members.map((m) => ({
      id: m.user_id,
      username: m.username,
      display_name: m.display_name,
      groupRole: m.role,
    }));
  }

  /** Decrypts one message (one at a time, in call order). */
  decrypt(message: Message): Promise<DecryptResult> {
    const client = this.client;
    if (!client) return Promise.resolve({ status: 'waiting_for_key' });
    const run = this.decrypting.then(() => client.messenger.decryptMessage(message));
    this.decrypting = run.catch(() => undefined);
    // What this device decrypted goes to its local message store, for search.
    void run.then(
      (result) => localSearch.record(message, result),
      () => undefined,
    );
    return run;
  }

  /** Called with messages that may decrypt now (a key arrived, or an identity was accepted). */
  onRetry(listener: (messages: Message[]) => void): () => void {
    this.retryListeners.add(listener);
    return () => void this.retryListeners.delete(listener);
  }

  /** Accepts a contact's new identity key (after the person reviewed it): sending resumes. */
  async accept(userId: string): Promise<void> {
    const client = this.client;
    if (!client) return;
    await client.messenger.accept(userId);
    this.changed.delete(userId);
    this.verified.delete(userId);
  }

  /** A contact's safety number and trust state (their key looked up on first use). */
  async contactTrust(userId: string): Promise<ContactTrust | undefined> {
    const client = this.client;
    if (!client) return undefined;
    const trust = await client.messenger.contactTrust(userId);
    if (trust?.state === 'verified') this.verified.add(userId);
    else this.verified.delete(userId);
    return trust;
  }

  /** Marks a contact verified after the person compared safety numbers. */
  async markVerified(userId: string): Promise<void> {
    const client = this.client;
    if (!client) return;
    await client.messenger.markVerified(userId);
    this.verified.add(userId);
  }

  /** Takes a verification back. */
  async removeVerification(userId: string): Promise<void> {
    const client = this.client;
    if (!client) return;
    await client.messenger.removeVerification(userId);
    this.verified.delete(userId);
  }
}

/** The signed-in user's encryption session in this browser. */
export const e2e = new E2ESession();

// Signing out (or in as someone else) ends the session: keys leave memory, the store closes.
$effect.root(() => {
  $effect(() => {
    const userId = session.user?.id ?? null;
    untrack(() => {
      if (e2e.user !== null && e2e.user !== userId) {
        e2e.stop();
        // The next sign-in opens its socket without this device's id.
        if (!realtime.client) realtime.restart({});
      }
    });
  });
});

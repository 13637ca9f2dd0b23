/**
 * The E2E layer assembled for one signed-in user on one device: the key store, the device's
 * registration ({@link DeviceManager}) and messaging ({@link E2EMessenger}).
 *
 *   const e2e = await E2EClient.start({ userId, kv: await openIndexedDbKeyStore({ name: `chatalot-${userId}` }),
 *     api: auth, channelMembers, send: (m) => messages.send(m) });
 *   gateway.onEvent((ev) => e2e.handleEvent(ev));   // keys.low, device.message, device.*, identity.changed
 *   await e2e.messenger.syncDeviceInbox(e2e.inbox);
 */
import { defaultContext, type CryptoContext, type IdentityKeyPair } from '@chatalot/crypto';
import type { MessageAck, SendDeviceMessages, SendMessage } from '@chatalot/protocol';
import { DeviceInboxApi, KeysApi, retryRateLimited, type AuthedRequester, type KeyServiceApi } from './api.js';
import { DeviceManager, type StartOptions } from './device-manager.js';
import { E2EKeyStore } from './key-store.js';
import type { KeyValueStore } from './kv.js';
import { E2EMessenger } from './messenger.js';
import { ProvisioningApi } from './provisioning.js';

export interface E2EClientOptions extends StartOptions {
  /** The signed-in user's id. */
  userId: string;
  /** Where keys live: `openIndexedDbKeyStore(…)` in browsers, `MemoryKeyValueStore` elsewhere. */
  kv: KeyValueStore;
  /**
   * AuthClient (its `authed` method) for the key service and the device inbox. Calls answered
   * `rate_limited` with a short Retry-After are retried (see `retryRateLimited`).
   */
  api: AuthedRequester;
  /** Members of a channel or DM. */
  channelMembers(channelId: string): Promise<readonly string[]>;
  /** Posts messages (gateway `message.send`); needed for `messenger.send…`. */
  send?(input: SendMessage): Promise<MessageAck>;
  /** Device messages out; REST `POST /api/device-messages` by default. */
  sendDeviceMessages?(input: SendDeviceMessages): Promise<unknown>;
  /** Acks; REST `POST /api/device-messages/ack` by default. */
  ackDeviceMessages?(ids: string[]): Promise<unknown>;
  /**
   * A key backup to restore the identity from before registering (a later device of a user
   * who already has an identity key). Wrong passphrase: CryptoError `bad_passphrase`.
   */
  backup?: { passphrase: string; blob: Uint8Array };
  /** The identity key received by linking this device (`DeviceLink.wait`), to register with. */
  linkedIdentity?: IdentityKeyPair;
  /** Overrides the key service client (tests). */
  keys?: KeyServiceApi;
  ctx?: CryptoContext;
  deviceListTtlMs?: number;
}

export class E2EClient {
  private constructor(
    readonly store: E2EKeyStore,
    readonly devices: DeviceManager,
    readonly messenger: E2EMessenger,
    readonly inbox: DeviceInboxApi,
    /** Linking other devices of this user: `inspectLinkCode` / `approveDeviceLink` with it. */
    readonly provisioning: ProvisioningApi,
  ) {}

  /** Registers (or loads) this device, tops up its prekeys and builds the messenger. */
  static async start(o: E2EClientOptions): Promise<E2EClient> {
    const ctx = o.ctx ?? defaultContext();
    const store = new E2EKeyStore(o.kv);
    const api = retryRateLimited(o.api);
    const keys = o.keys ?? new KeysApi(api);
    const inbox = new DeviceInboxApi(api);
    const devices = new DeviceManager({ keys, store, userId: o.userId, ctx });
    if (o.backup) await devices.restoreKeyBackup(o.backup.passphrase, o.backup.blob);
    if (o.linkedIdentity) await devices.adoptIdentity(o.linkedIdentity);
    const device = await devices.start(o.resetIdentity === undefined ? {} : { resetIdentity: o.resetIdentity });
    const messenger = new E2EMessenger({
      store,
      keys,
      device,
      ctx,
      channelMembers: o.channelMembers,
      sendDeviceMessages: o.sendDeviceMessages ?? ((input) => inbox.send(input)),
      ackDeviceMessages: o.ackDeviceMessages ?? ((ids) => inbox.ack(device.deviceId, ids)),
      ...(o.send ? { send: o.send } : {}),
      ...(o.deviceListTtlMs === undefined ? {} : { deviceListTtlMs: o.deviceListTtlMs }),
    });
    return new E2EClient(store, devices, messenger, inbox, new ProvisioningApi(api));
  }

  /** Feeds a gateway event to the device manager (`keys.low`) and the messenger. */
  async handleEvent(event: { type: string; [k: string]: unknown }): Promise<void> {
    await this.devices.handleEvent(event);
    await this.messenger.handleEvent(event);
  }
}

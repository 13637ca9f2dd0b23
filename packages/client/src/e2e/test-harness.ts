/** Test support: simulated devices (E2EClient over memory stores) talking through a TestRelay. */
import { defaultContext, type CryptoContext, type IdentityKeyPair } from '@chatalot/crypto';
import type { Message } from '@chatalot/protocol';
import { E2EClient } from './client.js';
import type { KeyValueStore } from './kv.js';
import { MemoryKeyValueStore } from './kv.js';
import type { DecryptResult } from './messenger.js';
import type { TestRelay } from './test-relay.js';

/** A settable clock shared by the devices of a test. */
export class TestClock {
  t = 1_700_000_000_000;
  now = (): number => this.t;
}

export interface DeviceOptions {
  kv?: KeyValueStore;
  resetIdentity?: boolean;
  backup?: { passphrase: string; blob: Uint8Array };
  linkedIdentity?: IdentityKeyPair;
}

export class TestEndpoint {
  readonly retries: Message[][] = [];
  readonly identityChanges: string[] = [];
  private eventCursor = 0;

  private constructor(
    readonly relay: TestRelay,
    readonly userId: string,
    readonly kv: KeyValueStore,
    readonly e2e: E2EClient,
  ) {
    e2e.messenger.on('retry', (m) => this.retries.push(m));
    e2e.messenger.on('identityChanged', (u) => this.identityChanges.push(u));
  }

  static async start(relay: TestRelay, userId: string, ctx: CryptoContext, o: DeviceOptions = {}) {
    const kv = o.kv ?? new MemoryKeyValueStore();
    const e2e = await E2EClient.start({
      userId,
      kv,
      api: relay.requester(userId),
      ctx,
      channelMembers: async (channelId) => relay.members(channelId),
      send: async (input) => relay.post(userId, input),
      ...(o.resetIdentity ? { resetIdentity: true } : {}),
      ...(o.backup ? { backup: o.backup } : {}),
      ...(o.linkedIdentity ? { linkedIdentity: o.linkedIdentity } : {}),
    });
    // Events published before this device existed are not its business.
    const endpoint = new TestEndpoint(relay, userId, kv, e2e);
    endpoint.eventCursor = relay.events.get(userId)?.length ?? 0;
    return endpoint;
  }

  get deviceId(): number {
    return this.e2e.messenger.address.deviceId;
  }

  get messenger() {
    return this.e2e.messenger;
  }

  /** Processes this device's inbox over REST (and acks it). */
  sync() {
    return this.e2e.messenger.syncDeviceInbox(this.e2e.inbox);
  }

  /** Feeds the user's new events to this device (`live` also handles device.message events). */
  async pumpEvents(live = false): Promise<void> {
    const events = this.relay.events.get(this.userId) ?? [];
    const fresh = events.slice(this.eventCursor);
    this.eventCursor = events.length;
    for (const ev of fresh) {
      if (ev.type === 'device.message' && !live) continue;
      await this.e2e.handleEvent(ev);
    }
  }

  async read(message: Message): Promise<DecryptResult> {
    return this.e2e.messenger.decryptMessage(message);
  }

  /** Syncs, then decrypts every message of the channel: texts, or `!reason` / `…waiting`. */
  async readAll(channelId: string): Promise<string[]> {
    await this.sync();
    const out: string[] = [];
    for (const m of this.relay.history(channelId)) out.push(show(await this.read(m)));
    return out;
  }
}

export function show(r: DecryptResult): string {
  if (r.status === 'ok') return r.plaintext;
  if (r.status === 'failed') return `!${r.reason}`;
  return '…waiting';
}

export function testContext(clock: TestClock): CryptoContext {
  return defaultContext({ now: clock.now });
}

/** Test fixtures: deterministic contexts, an instrumented AEAD and simulated devices. */
import { sha256 } from '@noble/hashes/sha2.js';
import {
  defaultContext,
  generateIdentityKeyPair,
  generateOneTimePreKeys,
  generateSignedPreKey,
  InMemoryPreKeyStore,
  InMemorySenderKeyStore,
  InMemorySessionStore,
  InMemoryTrustStore,
  makePreKeyBundle,
  nobleAead,
  SenderKeyManager,
  SessionManager,
  type Aead,
  type CryptoContext,
  type IdentityKeyPair,
  type PreKeyBundle,
  type ProtocolAddress,
} from '../src/index.js';
import { concat, toHex, u32be, utf8 } from '../src/bytes.js';

/** A deterministic RNG: SHA-256(seed || counter) blocks. */
export function seededRng(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      const block = sha256(concat(utf8(seed), u32be(counter++)));
      out.set(block.subarray(0, Math.min(32, n - off)), off);
    }
    return out;
  };
}

/** An AEAD wrapper that records every (key, nonce) pair used to seal. */
export class InstrumentedAead implements Aead {
  readonly used = new Set<string>();
  reuses = 0;
  seals = 0;
  seal(...args: Parameters<Aead['seal']>): Uint8Array {
    const [alg, key, nonce] = args;
    const id = `${alg}:${toHex(key)}:${toHex(nonce)}`;
    if (this.used.has(id)) this.reuses++;
    this.used.add(id);
    this.seals++;
    return nobleAead.seal(...args);
  }
  open(...args: Parameters<Aead['open']>): Uint8Array {
    return nobleAead.open(...args);
  }
}

/** A settable clock. */
export class TestClock {
  t = 1_700_000_000_000;
  now = (): number => this.t;
}

export function testContext(seed: string, clock = new TestClock(), aead: Aead = nobleAead): CryptoContext {
  return defaultContext({ rng: seededRng(seed), now: clock.now, aead });
}

/** One simulated device with its own stores; `restart()` simulates a crash (drops managers). */
export class TestDevice {
  readonly sessionStore = new InMemorySessionStore();
  readonly preKeyStore = new InMemoryPreKeyStore();
  readonly senderKeyStore = new InMemorySenderKeyStore();
  trustStore = new InMemoryTrustStore();
  sessions!: SessionManager;
  groups!: SenderKeyManager;
  private nextOneTime = 1;

  constructor(
    readonly ctx: CryptoContext,
    readonly address: ProtocolAddress,
    readonly identity: IdentityKeyPair,
  ) {
    this.restart();
  }

  static async create(
    ctx: CryptoContext,
    userId: string,
    deviceId: number,
    identity?: IdentityKeyPair,
    oneTime = 5,
  ): Promise<TestDevice> {
    const d = new TestDevice(ctx, { userId, deviceId }, identity ?? generateIdentityKeyPair(ctx));
    await d.preKeyStore.storeSignedPreKey(generateSignedPreKey(ctx, d.identity, 1));
    await d.addOneTimePreKeys(oneTime);
    return d;
  }

  async addOneTimePreKeys(n: number): Promise<void> {
    for (const k of generateOneTimePreKeys(this.ctx, this.nextOneTime, n)) await this.preKeyStore.storeOneTimePreKey(k);
    this.nextOneTime += n;
  }

  restart(): void {
    this.sessions = new SessionManager({
      ctx: this.ctx,
      identity: this.identity,
      address: this.address,
      sessions: this.sessionStore,
      preKeys: this.preKeyStore,
      trust: this.trustStore,
    });
    this.groups = new SenderKeyManager({ ctx: this.ctx, address: this.address, store: this.senderKeyStore });
  }

  /** What the server would hand out: the signed prekey and the next unused one-time prekey (each at most once). */
  private handedOut = new Set<number>();
  async bundle(opts: { oneTime?: boolean } = {}): Promise<PreKeyBundle> {
    const spk = (await this.preKeyStore.loadSignedPreKey(1))!;
    let otk;
    if (opts.oneTime !== false) {
      for (const [id, k] of this.preKeyStore.oneTime) {
        if (!this.handedOut.has(id)) {
          this.handedOut.add(id);
          otk = k;
          break;
        }
      }
    }
    return makePreKeyBundle(this.address.userId, this.address.deviceId, this.identity, spk, otk);
  }
}

export const text = (s: string): Uint8Array => utf8(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

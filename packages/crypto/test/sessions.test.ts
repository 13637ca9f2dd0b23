/** Pairwise scenarios: X3DH + Double Ratchet through SessionManager. */
import { describe, expect, it } from 'vitest';
import {
  acceptIdentity,
  addressKey,
  CryptoError,
  generateIdentityKeyPair,
  MessageType,
  peekEnvelopeType,
  type CryptoErrorCode,
} from '../src/index.js';
import { deserializeRecord } from '../src/session-record.js';
import { TestClock, TestDevice, testContext, text, str } from './helpers.js';

async function pair(seed: string) {
  const ctx = testContext(seed);
  const alice = await TestDevice.create(ctx, 'alice', 1);
  const bob = await TestDevice.create(ctx, 'bob', 1);
  return { ctx, alice, bob };
}

async function expectCode(p: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => e instanceof CryptoError && e.code === code);
}

async function established(seed: string) {
  const t = await pair(seed);
  await t.alice.sessions.processPreKeyBundle(await t.bob.bundle());
  const m = await t.alice.sessions.encrypt(t.bob.address, text('hi'));
  await t.bob.sessions.decrypt(t.alice.address, m);
  const r = await t.bob.sessions.encrypt(t.alice.address, text('hello'));
  await t.alice.sessions.decrypt(t.bob.address, r);
  return t;
}

async function currentBaseKey(d: TestDevice, peer: TestDevice): Promise<string> {
  const rec = deserializeRecord((await d.sessionStore.loadSession(addressKey(peer.address)))!);
  return rec.current!.baseKey.join(',');
}

describe('pairwise sessions', () => {
  it('basic_exchange: prekey message first, ratchet messages after the reply', async () => {
    const { alice, bob } = await pair('basic');
    await alice.sessions.processPreKeyBundle(await bob.bundle());
    const m1 = await alice.sessions.encrypt(bob.address, text('one'));
    const m2 = await alice.sessions.encrypt(bob.address, text('two'));
    expect(peekEnvelopeType(m1)).toBe(MessageType.PreKeyMessage);
    expect(peekEnvelopeType(m2)).toBe(MessageType.PreKeyMessage);
    expect(str(await bob.sessions.decrypt(alice.address, m1))).toBe('one');
    expect(str(await bob.sessions.decrypt(alice.address, m2))).toBe('two');
    const r = await bob.sessions.encrypt(alice.address, text('back'));
    expect(peekEnvelopeType(r)).toBe(MessageType.RatchetMessage);
    expect(str(await alice.sessions.decrypt(bob.address, r))).toBe('back');
    const m3 = await alice.sessions.encrypt(bob.address, text('three'));
    expect(peekEnvelopeType(m3)).toBe(MessageType.RatchetMessage);
    expect(str(await bob.sessions.decrypt(alice.address, m3))).toBe('three');
  });

  it('out_of_order: messages across ratchet steps arrive shuffled', async () => {
    const { alice, bob } = await established('ooo');
    const a = [];
    for (let i = 0; i < 5; i++) a.push(await alice.sessions.encrypt(bob.address, text(`a${i}`)));
    const b0 = await bob.sessions.encrypt(alice.address, text('b0'));
    expect(str(await alice.sessions.decrypt(bob.address, b0))).toBe('b0');
    const a2 = [];
    for (let i = 0; i < 3; i++) a2.push(await alice.sessions.encrypt(bob.address, text(`c${i}`)));
    const order = [a2[1]!, a[4]!, a[0]!, a2[0]!, a[2]!, a[1]!, a2[2]!, a[3]!];
    const got = [];
    for (const m of order) got.push(str(await bob.sessions.decrypt(alice.address, m)));
    expect(got).toEqual(['c1', 'a4', 'a0', 'c0', 'a2', 'a1', 'c2', 'a3']);
  });

  it('skipped_key_limit: at most MAX_SKIP keys are skipped in one step', async () => {
    const { alice, bob } = await established('skip');
    const msgs = [];
    for (let i = 0; i < 1002; i++) msgs.push(await alice.sessions.encrypt(bob.address, text(`m${i}`)));
    // The chain is at index 1 (one message was decrypted); message 1002 would skip 1001 keys.
    await expectCode(bob.sessions.decrypt(alice.address, msgs[1001]!), 'too_many_skipped');
    // Skipping exactly 1000 is allowed.
    expect(str(await bob.sessions.decrypt(alice.address, msgs[1000]!))).toBe('m1000');
    expect(str(await bob.sessions.decrypt(alice.address, msgs[1001]!))).toBe('m1001');
    expect(str(await bob.sessions.decrypt(alice.address, msgs[3]!))).toBe('m3');
  });

  it('skipped keys expire', async () => {
    const clock = new TestClock();
    const ctx = testContext('expire', clock);
    const alice = await TestDevice.create(ctx, 'alice', 1);
    const bob = await TestDevice.create(ctx, 'bob', 1);
    await alice.sessions.processPreKeyBundle(await bob.bundle());
    const m0 = await alice.sessions.encrypt(bob.address, text('0'));
    const m1 = await alice.sessions.encrypt(bob.address, text('1'));
    const m2 = await alice.sessions.encrypt(bob.address, text('2'));
    await bob.sessions.decrypt(alice.address, m0);
    await bob.sessions.decrypt(alice.address, m2); // skips m1
    clock.t += 31 * 24 * 3600 * 1000;
    await expectCode(bob.sessions.decrypt(alice.address, m1), 'duplicate_message');
  });

  it('duplicate_message_rejected: ratchet and prekey messages decrypt once', async () => {
    const { alice, bob } = await pair('dup');
    await alice.sessions.processPreKeyBundle(await bob.bundle());
    const p = await alice.sessions.encrypt(bob.address, text('p'));
    await bob.sessions.decrypt(alice.address, p);
    await expectCode(bob.sessions.decrypt(alice.address, p), 'duplicate_message');
    const r = await bob.sessions.encrypt(alice.address, text('r'));
    await alice.sessions.decrypt(bob.address, r);
    await expectCode(alice.sessions.decrypt(bob.address, r), 'duplicate_message');
    // Even after the session is gone, the prekey message is not accepted again (base key seen).
    await bob.sessions.deleteSession(alice.address);
    await expectCode(bob.sessions.decrypt(alice.address, p), 'duplicate_message');
  });

  it('tampered ciphertext, header or associated data is rejected and leaves state intact', async () => {
    const { alice, bob } = await established('tamper');
    const m = await alice.sessions.encrypt(bob.address, text('secret'));
    const flip = (at: number) => {
      const c = m.slice();
      c[at]! ^= 0x01;
      return c;
    };
    await expectCode(bob.sessions.decrypt(alice.address, flip(m.length - 1)), 'decrypt_failed'); // tag
    await expectCode(bob.sessions.decrypt(alice.address, flip(2 + 40 + 1)), 'decrypt_failed'); // ciphertext
    await expectCode(bob.sessions.decrypt(alice.address, flip(2 + 5)), 'decrypt_failed'); // header: ratchet key
    await expectCode(bob.sessions.decrypt(alice.address, flip(2 + 32 + 4 + 3)), 'decrypt_failed'); // header: index
    await expectCode(bob.sessions.decrypt(alice.address, flip(2 + 32 + 3)), 'decrypt_failed'); // header: previous count
    expect(str(await bob.sessions.decrypt(alice.address, m))).toBe('secret');
  });

  it('associated data: a prekey message attributed to another sender address fails', async () => {
    const { ctx, alice, bob } = await pair('ad');
    await alice.sessions.processPreKeyBundle(await bob.bundle());
    const m = await alice.sessions.encrypt(bob.address, text('x'));
    await expectCode(bob.sessions.decrypt({ userId: 'alice', deviceId: 2 }, m), 'decrypt_failed');
    // and to a device of another user with another identity: still fails authentication
    await expectCode(bob.sessions.decrypt({ userId: 'mallory', deviceId: 1 }, m), 'decrypt_failed');
    expect(str(await bob.sessions.decrypt(alice.address, m))).toBe('x');
    void ctx;
  });

  it('bad_signed_prekey_signature: a bundle with a bad signature is refused', async () => {
    const { alice, bob } = await pair('badsig');
    const b = await bob.bundle();
    const sig = b.signedPreKey.signature.slice();
    sig[10]! ^= 0x40;
    await expectCode(
      alice.sessions.processPreKeyBundle({ ...b, signedPreKey: { ...b.signedPreKey, signature: sig } }),
      'bad_signature',
    );
    // a signed prekey swapped by the server is refused too
    const other = await TestDevice.create(testContext('other'), 'bob', 1);
    const ob = await other.bundle();
    await expectCode(alice.sessions.processPreKeyBundle({ ...b, signedPreKey: ob.signedPreKey }), 'bad_signature');
    expect(await alice.sessions.hasSession(bob.address)).toBe(false);
  });

  it('prekey message without a one-time prekey', async () => {
    const { alice, bob } = await pair('noopk');
    await alice.sessions.processPreKeyBundle(await bob.bundle({ oneTime: false }));
    const m = await alice.sessions.encrypt(bob.address, text('no opk'));
    expect(str(await bob.sessions.decrypt(alice.address, m))).toBe('no opk');
    expect(bob.preKeyStore.oneTime.size).toBe(5);
  });

  it('corrupted_prekey_message_keeps_one_time_prekey', async () => {
    const { alice, bob } = await pair('corrupt');
    await alice.sessions.processPreKeyBundle(await bob.bundle());
    const m = await alice.sessions.encrypt(bob.address, text('hello'));
    const bad = m.slice();
    bad[bad.length - 3]! ^= 0xff;
    await expectCode(bob.sessions.decrypt(alice.address, bad), 'decrypt_failed');
    expect(bob.preKeyStore.oneTime.has(1)).toBe(true);
    expect(await bob.sessions.hasSession(alice.address)).toBe(false);
    expect(str(await bob.sessions.decrypt(alice.address, m))).toBe('hello');
    expect(bob.preKeyStore.oneTime.has(1)).toBe(false);
  });

  it('a prekey message naming a consumed one-time prekey is refused', async () => {
    const { ctx, alice, bob } = await pair('consumed');
    const bundle = await bob.bundle();
    await alice.sessions.processPreKeyBundle(bundle);
    await bob.sessions.decrypt(alice.address, await alice.sessions.encrypt(bob.address, text('1')));
    const carol = await TestDevice.create(ctx, 'carol', 1);
    await carol.sessions.processPreKeyBundle(bundle); // the server handed the same key out twice
    await expectCode(
      bob.sessions.decrypt(carol.address, await carol.sessions.encrypt(bob.address, text('2'))),
      'missing_prekey',
    );
  });

  it('simultaneous_initiation converges on one session (both delivery orders)', async () => {
    for (const bobFirst of [false, true]) {
      const { alice, bob } = await pair(`simul-${bobFirst}`);
      await alice.sessions.processPreKeyBundle(await bob.bundle());
      await bob.sessions.processPreKeyBundle(await alice.bundle());
      const a1 = await alice.sessions.encrypt(bob.address, text('from alice'));
      const b1 = await bob.sessions.encrypt(alice.address, text('from bob'));
      if (bobFirst) {
        expect(str(await alice.sessions.decrypt(bob.address, b1))).toBe('from bob');
        expect(str(await bob.sessions.decrypt(alice.address, a1))).toBe('from alice');
      } else {
        expect(str(await bob.sessions.decrypt(alice.address, a1))).toBe('from alice');
        expect(str(await alice.sessions.decrypt(bob.address, b1))).toBe('from bob');
      }
      expect(await currentBaseKey(alice, bob)).toBe(await currentBaseKey(bob, alice));
      for (let i = 0; i < 2; i++) {
        const x = await alice.sessions.encrypt(bob.address, text(`a${i}`));
        expect(str(await bob.sessions.decrypt(alice.address, x))).toBe(`a${i}`);
        const y = await bob.sessions.encrypt(alice.address, text(`b${i}`));
        expect(str(await alice.sessions.decrypt(bob.address, y))).toBe(`b${i}`);
      }
      expect(peekEnvelopeType(await alice.sessions.encrypt(bob.address, text('z')))).toBe(MessageType.RatchetMessage);
      expect(peekEnvelopeType(await bob.sessions.encrypt(alice.address, text('z')))).toBe(MessageType.RatchetMessage);
      expect(await currentBaseKey(alice, bob)).toBe(await currentBaseKey(bob, alice));
    }
  });

  it('simultaneous_initiation: a late losing prekey message does not split the sides', async () => {
    const { alice, bob } = await pair('late-loser');
    await alice.sessions.processPreKeyBundle(await bob.bundle());
    await bob.sessions.processPreKeyBundle(await alice.bundle());
    const a1 = await alice.sessions.encrypt(bob.address, text('a1'));
    const b1 = await bob.sessions.encrypt(alice.address, text('b1'));
    await bob.sessions.decrypt(alice.address, a1);
    const b2 = await bob.sessions.encrypt(alice.address, text('b2'));
    await alice.sessions.decrypt(bob.address, b2);
    await alice.sessions.decrypt(bob.address, b1); // arrives last
    expect(await currentBaseKey(alice, bob)).toBe(await currentBaseKey(bob, alice));
  });

  it('session_reset: the peer adopts the new session; in-flight messages of the old one still decrypt', async () => {
    const { alice, bob } = await established('reset');
    const inflight = await bob.sessions.encrypt(alice.address, text('old session'));
    await alice.sessions.resetSession(await bob.bundle());
    const m = await alice.sessions.encrypt(bob.address, text('new session'));
    expect(peekEnvelopeType(m)).toBe(MessageType.PreKeyMessage);
    expect(str(await bob.sessions.decrypt(alice.address, m))).toBe('new session');
    expect(await currentBaseKey(alice, bob)).toBe(await currentBaseKey(bob, alice));
    expect(str(await alice.sessions.decrypt(bob.address, inflight))).toBe('old session');
    const r = await bob.sessions.encrypt(alice.address, text('reply'));
    expect(str(await alice.sessions.decrypt(bob.address, r))).toBe('reply');
    expect(await currentBaseKey(alice, bob)).toBe(await currentBaseKey(bob, alice));
  });

  it('no_session: encrypt and decrypt without a session fail', async () => {
    const { alice, bob } = await pair('nosession');
    await expectCode(alice.sessions.encrypt(bob.address, text('x')), 'no_session');
    await alice.sessions.processPreKeyBundle(await bob.bundle());
    await bob.sessions.decrypt(alice.address, await alice.sessions.encrypt(bob.address, text('x')));
    const r = await bob.sessions.encrypt(alice.address, text('y'));
    expect(str(await alice.sessions.decrypt(bob.address, r))).toBe('y');
    await bob.sessions.deleteSession(alice.address);
    const r2 = await alice.sessions.encrypt(bob.address, text('z'));
    expect(peekEnvelopeType(r2)).toBe(MessageType.RatchetMessage);
    await expectCode(bob.sessions.decrypt(alice.address, r2), 'no_session');
  });

  it('identity_change: untrusted_identity until accepted', async () => {
    const { ctx, alice, bob } = await established('idchange');
    // bob reinstalls with a new identity on the same address
    const bob2 = await TestDevice.create(ctx, 'bob', 1, generateIdentityKeyPair(ctx));
    await expectCode(alice.sessions.processPreKeyBundle(await bob2.bundle()), 'untrusted_identity');
    expect((await alice.trustStore.loadTrust('bob'))!.state).toBe('changed');
    // sending on the old session pauses too
    await expectCode(alice.sessions.encrypt(bob.address, text('x')), 'untrusted_identity');
    // a prekey message from the new identity is refused without consuming alice's one-time prekey
    await bob2.sessions.processPreKeyBundle(await alice.bundle());
    const fromNew = await bob2.sessions.encrypt(alice.address, text('new me'));
    const before = alice.preKeyStore.oneTime.size;
    await expectCode(alice.sessions.decrypt(bob.address, fromNew), 'untrusted_identity');
    expect(alice.preKeyStore.oneTime.size).toBe(before);

    await acceptIdentity(alice.trustStore, 'bob', bob2.identity.publicKey, ctx.now());
    expect(str(await alice.sessions.decrypt(bob.address, fromNew))).toBe('new me');
    const m = await alice.sessions.encrypt(bob2.address, text('welcome back'));
    expect(str(await bob2.sessions.decrypt(alice.address, m))).toBe('welcome back');
    expect((await alice.trustStore.loadTrust('bob'))!.state).toBe('unverified');
  });

  it('encrypt resolves only after the advanced state is stored; a failed write yields no ciphertext', async () => {
    const { alice, bob } = await established('persist');
    const store = alice.sessionStore;
    const original = store.storeSession.bind(store);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let written = false;
    store.storeSession = async (k, v) => {
      await gate;
      await original(k, v);
      written = true;
    };
    let resolved = false;
    const p = alice.sessions.encrypt(bob.address, text('x')).then((m) => ((resolved = true), m));
    await new Promise((r) => setTimeout(r, 10));
    expect(resolved).toBe(false);
    release();
    await p;
    expect(written).toBe(true);

    store.storeSession = async () => {
      throw new Error('disk full');
    };
    await expect(alice.sessions.encrypt(bob.address, text('y'))).rejects.toThrow('disk full');
    store.storeSession = original;
  });
});

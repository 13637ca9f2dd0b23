/** Sender Keys scenarios: distribution over pairwise sessions, signing, late join, rotation. */
import { describe, expect, it } from 'vitest';
import {
  addressKey,
  CryptoError,
  InMemorySenderKeyStore,
  openPairwiseMessage,
  sealSenderKeyDistribution,
  SenderKeyManager,
  type CryptoErrorCode,
} from '../src/index.js';
import { deserializeState, serializeState } from '../src/serialize.js';
import { TestDevice, testContext, text, str } from './helpers.js';

const G = 'channel-42';

async function expectCode(p: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => e instanceof CryptoError && e.code === code);
}

/** Sends `from`'s current distribution to each device over pairwise sessions. */
async function distribute(from: TestDevice, to: TestDevice[], dist?: Uint8Array): Promise<void> {
  const d = dist ?? (await from.groups.createDistribution(G));
  for (const t of to) {
    if (!(await from.sessions.hasSession(t.address))) await from.sessions.processPreKeyBundle(await t.bundle());
    const wire = await sealSenderKeyDistribution(from.sessions, t.address, d);
    const got = await openPairwiseMessage(t.sessions, t.groups, from.address, wire);
    expect(got.kind).toBe('sender_key_distribution');
  }
}

async function group(seed: string) {
  const ctx = testContext(seed);
  const alice = await TestDevice.create(ctx, 'alice', 1);
  const bob = await TestDevice.create(ctx, 'bob', 1);
  const carol = await TestDevice.create(ctx, 'carol', 1);
  await distribute(alice, [bob, carol]);
  return { ctx, alice, bob, carol };
}

describe('sender keys', () => {
  it('group message: every member decrypts after verifying the signature', async () => {
    const { alice, bob, carol } = await group('basic');
    const m = await alice.groups.encrypt(G, text('hello group'));
    expect(str(await bob.groups.decrypt(alice.address, G, m))).toBe('hello group');
    expect(str(await carol.groups.decrypt(alice.address, G, m))).toBe('hello group');
  });

  it('group_out_of_order and duplicates', async () => {
    const { alice, bob } = await group('ooo');
    const ms = [];
    for (let i = 0; i < 6; i++) ms.push(await alice.groups.encrypt(G, text(`g${i}`)));
    for (const i of [4, 0, 5, 2, 1, 3]) expect(str(await bob.groups.decrypt(alice.address, G, ms[i]!))).toBe(`g${i}`);
    await expectCode(bob.groups.decrypt(alice.address, G, ms[2]!), 'duplicate_message');
    await expectCode(bob.groups.decrypt(alice.address, G, ms[5]!), 'duplicate_message');
  });

  it('group skipped-key limit', async () => {
    const { alice, bob } = await group('limit');
    const ms = [];
    for (let i = 0; i < 1002; i++) ms.push(await alice.groups.encrypt(G, text(`${i}`)));
    await expectCode(bob.groups.decrypt(alice.address, G, ms[1001]!), 'too_many_skipped');
    expect(str(await bob.groups.decrypt(alice.address, G, ms[1000]!))).toBe('1000');
  });

  it('group_late_join: a newcomer decrypts only messages sent after joining', async () => {
    const { ctx, alice, bob } = await group('late');
    const before = [await alice.groups.encrypt(G, text('b0')), await alice.groups.encrypt(G, text('b1'))];
    const dave = await TestDevice.create(ctx, 'dave', 1);
    await distribute(alice, [dave]);
    const after = await alice.groups.encrypt(G, text('after'));
    expect(str(await dave.groups.decrypt(alice.address, G, after))).toBe('after');
    await expectCode(dave.groups.decrypt(alice.address, G, before[0]!), 'no_sender_key');
    await expectCode(dave.groups.decrypt(alice.address, G, before[1]!), 'no_sender_key');
    expect(str(await bob.groups.decrypt(alice.address, G, before[1]!))).toBe('b1');
  });

  it('group_forged_by_member_rejected: knowing the chain key is not enough to send as another member', async () => {
    const { ctx, alice, bob, carol } = await group('forge');
    // Bob takes Alice's chain (which he legitimately holds) and signs with a key of his own.
    type Rec = { chains: { signingPrivate: Uint8Array | null }[] };
    const stolen = deserializeState<Rec>(
      1,
      (await bob.senderKeyStore.loadSenderKey(`${addressKey(alice.address)}\n${G}`))!,
    );
    stolen.chains[0]!.signingPrivate = ctx.rng(32);
    const forgeStore = new InMemorySenderKeyStore();
    await forgeStore.storeSenderKey(`${addressKey(alice.address)}\n${G}`, serializeState(1, stolen));
    const forger = new SenderKeyManager({ ctx, address: alice.address, store: forgeStore });
    const forged = await forger.encrypt(G, text('send me your password'));
    await expectCode(carol.groups.decrypt(alice.address, G, forged), 'bad_signature');
    // The genuine message with the same iteration still decrypts: nothing was consumed.
    const genuine = await alice.groups.encrypt(G, text('real'));
    expect(str(await carol.groups.decrypt(alice.address, G, genuine))).toBe('real');
  });

  it('tampered or re-attributed group messages are rejected', async () => {
    const { alice, bob, carol } = await group('tamper');
    await distribute(bob, [carol]);
    const m = await alice.groups.encrypt(G, text('x'));
    const bad = m.slice();
    bad[bad.length - 70]! ^= 1;
    await expectCode(carol.groups.decrypt(alice.address, G, bad), 'bad_signature');
    await expectCode(carol.groups.decrypt(bob.address, G, m), 'no_sender_key');
    await expectCode(carol.groups.decrypt(alice.address, 'other-group', m), 'invalid_message');
    expect(str(await carol.groups.decrypt(alice.address, G, m))).toBe('x');
  });

  it('removed_member_cannot_decrypt_after_rotation', async () => {
    const { alice, bob, carol } = await group('remove');
    const inflight = await alice.groups.encrypt(G, text('before removal'));
    // carol is removed: alice rotates and distributes to the remaining members only
    const d2 = await alice.groups.rotate(G);
    await distribute(alice, [bob], d2);
    await bob.groups.forgetSender(G, carol.address);
    const m = await alice.groups.encrypt(G, text('after removal'));
    expect(str(await bob.groups.decrypt(alice.address, G, m))).toBe('after removal');
    await expectCode(carol.groups.decrypt(alice.address, G, m), 'no_sender_key');
    // an old-chain message still in flight decrypts for a remaining member
    expect(str(await bob.groups.decrypt(alice.address, G, inflight))).toBe('before removal');
  });

  it('sender chain is persisted before encrypt resolves', async () => {
    const { alice } = await group('persist');
    const original = alice.senderKeyStore.storeSenderKey.bind(alice.senderKeyStore);
    alice.senderKeyStore.storeSenderKey = async () => {
      throw new Error('disk full');
    };
    await expect(alice.groups.encrypt(G, text('x'))).rejects.toThrow('disk full');
    alice.senderKeyStore.storeSenderKey = original;
  });

  it('encrypting before creating a distribution fails', async () => {
    const { bob } = await group('nodist');
    await expectCode(bob.groups.encrypt('new-group', text('x')), 'no_sender_key');
  });
});

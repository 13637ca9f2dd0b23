import { describe, expect, it } from 'vitest';
import { TestClock, TestEndpoint, testContext } from './test-harness.js';
import { TestRelay } from './test-relay.js';

async function world() {
  const relay = new TestRelay();
  const clock = new TestClock();
  const ctx = testContext(clock);
  const alice = await TestEndpoint.start(relay, 'alice', ctx);
  const bob = await TestEndpoint.start(relay, 'bob', ctx);
  relay.createChannel('dm-ab', ['alice', 'bob']);
  return { relay, clock, ctx, alice, bob };
}

describe('verified contacts', () => {
  it('both sides see the same safety number, and verification is kept in the key store', async () => {
    const { relay, ctx, alice, bob } = await world();
    const aliceView = await alice.messenger.contactTrust('bob');
    const bobView = await bob.messenger.contactTrust('alice');
    expect(aliceView?.safetyNumber).toMatch(/^\d{60}$/);
    expect(aliceView?.safetyNumber).toBe(bobView?.safetyNumber);
    expect(aliceView).toMatchObject({ state: 'unverified', previouslyVerified: false });
    expect(aliceView?.verifiedAt).toBeUndefined();

    await alice.messenger.markVerified('bob');
    expect(await alice.messenger.trust('bob')).toMatchObject({ state: 'verified', verifiedAt: expect.any(Number) });

    // A restart (the same key store) still knows; messages from bob say "verified".
    const again = await TestEndpoint.start(relay, 'alice', ctx, { kv: alice.kv });
    expect((await again.messenger.trust('bob'))?.state).toBe('verified');
    await bob.messenger.sendDirectMessage('dm-ab', { text: 'hi' });
    await again.sync();
    const result = await again.read(relay.history('dm-ab')[0]!);
    expect(result).toMatchObject({ status: 'ok', verified: true });

    await again.messenger.removeVerification('bob');
    expect(await again.messenger.trust('bob')).toMatchObject({ state: 'unverified', previouslyVerified: false });
  });

  it('a verified contact whose key changes is unverified, and the warning says it had been verified', async () => {
    const { relay, ctx, alice } = await world();
    await alice.messenger.contactTrust('bob');
    await alice.messenger.markVerified('bob');

    // bob starts over with a new identity key.
    const bobNew = await TestEndpoint.start(relay, 'bob', ctx, { resetIdentity: true });
    await alice.pumpEvents();
    const changed = await alice.messenger.trust('bob');
    expect(changed).toMatchObject({ state: 'changed', previouslyVerified: true });
    expect(changed?.pendingSafetyNumber).toMatch(/^\d{60}$/);
    expect(changed?.pendingSafetyNumber).not.toBe(changed?.safetyNumber);
    expect(alice.identityChanges).toEqual(['bob']);
    await expect(alice.messenger.markVerified('bob')).rejects.toMatchObject({ code: 'untrusted_identity' });

    await alice.messenger.accept('bob');
    const accepted = await alice.messenger.trust('bob');
    expect(accepted).toMatchObject({ state: 'unverified', previouslyVerified: false });
    expect(accepted?.safetyNumber).toBe(changed?.pendingSafetyNumber);
    expect(accepted?.safetyNumber).toBe((await bobNew.messenger.contactTrust('alice'))?.safetyNumber);
  });

  it('a contact without a key has no safety number yet', async () => {
    const { alice } = await world();
    expect(await alice.messenger.contactTrust('carol')).toBeUndefined();
    expect(await alice.messenger.contactTrust('alice')).toBeUndefined();
    await expect(alice.messenger.markVerified('carol')).rejects.toMatchObject({ code: 'untrusted_identity' });
  });
});

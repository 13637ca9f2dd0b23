import { isCryptoError } from '@chatalot/crypto';
import { KEY_LIMITS } from '@chatalot/protocol';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from './bytes.js';
import { isE2EError } from './errors.js';
import type { KeyValueStore } from './kv.js';
import { MemoryKeyValueStore } from './kv.js';
import { decodePairwiseBody, encodePairwiseBody } from './pairwise-body.js';
import { show, TestClock, TestEndpoint, testContext } from './test-harness.js';
import { TestRelay } from './test-relay.js';

const PASS = 'correct horse battery staple';
const FAST_BACKUP = { logN: 15, r: 8, p: 1 };

/** alice and bob with two devices each (the second restored from a key backup); a channel and a DM. */
async function world() {
  const relay = new TestRelay();
  const clock = new TestClock();
  const ctx = testContext(clock);
  const alice1 = await TestEndpoint.start(relay, 'alice', ctx);
  const alice2 = await TestEndpoint.start(relay, 'alice', ctx, {
    backup: { passphrase: PASS, blob: await alice1.e2e.devices.createKeyBackup(PASS, FAST_BACKUP) },
  });
  const bob1 = await TestEndpoint.start(relay, 'bob', ctx);
  const bob2 = await TestEndpoint.start(relay, 'bob', ctx, {
    backup: { passphrase: PASS, blob: await bob1.e2e.devices.createKeyBackup(PASS, FAST_BACKUP) },
  });
  relay.createChannel('general', ['alice', 'bob']);
  relay.createChannel('dm-ab', ['alice', 'bob']);
  return { relay, clock, ctx, alice1, alice2, bob1, bob2 };
}

async function expectE2ECode(p: Promise<unknown>, code: string): Promise<unknown> {
  let caught: unknown;
  await p.then(
    () => undefined,
    (e: unknown) => (caught = e),
  );
  expect(isE2EError(caught) || isCryptoError(caught) ? (caught as { code: string }).code : caught).toBe(code);
  return caught;
}

describe('devices', () => {
  it('the first device creates the identity; later devices restore it or need provisioning', async () => {
    const { relay, ctx, alice1, alice2 } = await world();
    expect([alice1.deviceId, alice2.deviceId]).toEqual([1, 2]);
    const alice = relay.users.get('alice')!;
    expect([...alice.devices.values()].map((d) => d.oneTimePreKeys.length)).toEqual([100, 100]);
    expect(alice2.e2e.devices.state!.identity.publicKey).toEqual(alice1.e2e.devices.state!.identity.publicKey);

    // A third device with neither a backup nor a link cannot register.
    await expectE2ECode(TestEndpoint.start(relay, 'alice', ctx), 'provisioning_required');
    // A wrong passphrase is refused by the backup itself.
    const blob = await alice1.e2e.devices.createKeyBackup(PASS, FAST_BACKUP);
    await expectE2ECode(
      TestEndpoint.start(relay, 'alice', ctx, { backup: { passphrase: 'nope', blob } }),
      'bad_passphrase',
    );
    expect(alice.devices.size).toBe(2);
  });

  it('a restart loads the registered device and its sessions continue', async () => {
    const { relay, ctx, alice1, bob1 } = await world();
    await alice1.messenger.sendDirectMessage('dm-ab', { text: 'before restart' });
    expect(await bob1.readAll('dm-ab')).toEqual(['before restart']);

    const bob1Again = await TestEndpoint.start(relay, 'bob', ctx, { kv: bob1.kv });
    expect(bob1Again.deviceId).toBe(bob1.deviceId);
    expect(relay.users.get('bob')!.devices.size).toBe(2);
    await bob1Again.messenger.sendDirectMessage('dm-ab', { text: 'after restart' });
    expect(await alice1.readAll('dm-ab')).toEqual(['before restart', 'after restart']);
  });

  it('a device removed on the server is reported, not silently re-registered', async () => {
    const { relay, ctx, bob2 } = await world();
    relay.users.get('bob')!.devices.delete(bob2.deviceId);
    await expectE2ECode(TestEndpoint.start(relay, 'bob', ctx, { kv: bob2.kv }), 'not_registered');
  });

  it('one-time prekeys are topped up on keys.low and the signed prekey rotates weekly', async () => {
    const { relay, clock, bob1 } = await world();
    const device = () => relay.users.get('bob')!.devices.get(bob1.deviceId)!;
    relay.drainOneTimePreKeys('bob', bob1.deviceId, 80);
    expect(device().oneTimePreKeys.length).toBe(20);
    await bob1.pumpEvents(); // keys.low
    expect(device().oneTimePreKeys.length).toBe(KEY_LIMITS.oneTimePreKeysTarget);
    // New ids: never one the server still holds.
    const ids = device().oneTimePreKeys.map((k) => k.key_id);
    expect(new Set(ids).size).toBe(ids.length);

    const firstSpk = device().signedPreKey.key_id;
    expect(await bob1.e2e.devices.rotateSignedPreKeyIfDue()).toBe(false);
    clock.t += 8 * 24 * 60 * 60 * 1000;
    await bob1.e2e.devices.maintain();
    expect(device().signedPreKey.key_id).toBe(firstSpk + 1);
    // The old one is kept for prekey messages in flight, then dropped.
    expect(await bob1.e2e.store.loadSignedPreKey(firstSpk)).toBeDefined();
    clock.t += 31 * 24 * 60 * 60 * 1000;
    await bob1.e2e.devices.maintain();
    expect(await bob1.e2e.store.loadSignedPreKey(firstSpk)).toBeUndefined();
    expect(device().signedPreKey.key_id).toBe(firstSpk + 2);
  });

  it('sessions started from a rotated signed prekey and with replenished one-time prekeys work', async () => {
    const { relay, clock, ctx, alice1, bob1, bob2 } = await world();
    clock.t += 8 * 24 * 60 * 60 * 1000;
    await bob1.e2e.devices.maintain();
    relay.drainOneTimePreKeys('bob', bob1.deviceId, 100);
    await bob1.pumpEvents();
    const carol = await TestEndpoint.start(relay, 'carol', ctx);
    relay.createChannel('dm-bc', ['bob', 'carol']);
    await carol.messenger.sendDirectMessage('dm-bc', { text: 'hi bob' });
    expect(await bob1.readAll('dm-bc')).toEqual(['hi bob']);
    expect(await bob2.readAll('dm-bc')).toEqual(['hi bob']);
    void alice1;
  });
});

describe('channels (sender keys)', () => {
  it('every device of every member decrypts, including the sender’s other device', async () => {
    const { relay, alice1, alice2, bob1, bob2 } = await world();
    const ack = await alice1.messenger.sendChannelMessage('general', { text: 'hello channel' });
    const sent = relay.message(ack.id);
    expect(sent.encryption).toMatchObject({ scheme: 'sender_key', device_id: alice1.deviceId });
    expect(sent.encryption.distribution_id).toMatch(/^\d+$/);
    // Distributions went to alice2, bob1 and bob2 (not to the sender).
    expect(relay.inbox('alice', 2)).toHaveLength(1);
    expect(relay.inbox('alice', 1)).toHaveLength(0);
    expect(relay.inbox('bob', 1)).toHaveLength(1);
    expect(relay.inbox('bob', 2)).toHaveLength(1);

    await bob2.messenger.sendChannelMessage('general', { text: 'hi alice', reply: { message_id: ack.id } });
    for (const d of [alice1, alice2, bob1, bob2]) {
      expect(await d.readAll('general')).toEqual(['hello channel', 'hi alice']);
    }
    const reply = await alice1.read(relay.history('general')[1]!);
    expect(reply).toMatchObject({ status: 'ok', content: { reply: { message_id: ack.id } }, verified: false });
    expect(reply.status === 'ok' && reply.sender).toEqual({ userId: 'bob', deviceId: bob2.deviceId });
    // Our own other device counts as verified.
    expect(await bob1.read(relay.history('general')[1]!)).toMatchObject({ status: 'ok', verified: true });

    // A second message needs no new distribution.
    await alice1.messenger.sendChannelMessage('general', { text: 'again' });
    expect(relay.inbox('bob', 1)).toHaveLength(0);
    expect(await bob1.readAll('general')).toEqual(['hello channel', 'hi alice', 'again']);
  });

  it('a message that arrives before its key waits, and the retry event names it', async () => {
    const { relay, alice1, bob1 } = await world();
    const ack = await alice1.messenger.sendChannelMessage('general', { text: 'early' });
    expect((await bob1.read(relay.message(ack.id))).status).toBe('waiting_for_key');
    await bob1.pumpEvents(true); // live device.message events, acked through REST
    expect(relay.inbox('bob', bob1.deviceId)).toHaveLength(0);
    expect(bob1.retries.flat().map((m) => m.id)).toEqual([ack.id]);
    expect(show(await bob1.read(relay.message(ack.id)))).toBe('early');
    // Cached: reading again still works.
    expect(show(await bob1.read(relay.message(ack.id)))).toBe('early');
  });

  it('a late joiner reads only what was sent after joining', async () => {
    const { relay, ctx, alice1, bob1 } = await world();
    await alice1.messenger.sendChannelMessage('general', { text: 'before carol' });
    const carol = await TestEndpoint.start(relay, 'carol', ctx);
    const [before] = relay.history('general');
    expect((await carol.read(before!)).status).toBe('waiting_for_key');

    relay.addMember('general', 'carol');
    await alice1.messenger.sendChannelMessage('general', { text: 'welcome carol' });
    await carol.sync();
    // The key that arrived is alice's chain at its current iteration: the earlier message stays unreadable.
    expect(carol.retries.flat().map((m) => m.id)).toEqual([before!.id]);
    expect(await carol.readAll('general')).toEqual(['!no_sender_key', 'welcome carol']);
    expect(await bob1.readAll('general')).toEqual(['before carol', 'welcome carol']);
  });

  it('a removed member cannot read what is sent after the rotation', async () => {
    const { relay, ctx, alice1, alice2, bob1, bob2 } = await world();
    const carol = await TestEndpoint.start(relay, 'carol', ctx);
    relay.addMember('general', 'carol');
    await alice1.messenger.sendChannelMessage('general', { text: 'all of us' });
    const firstChain = relay.history('general')[0]!.encryption.distribution_id;
    expect(await bob1.readAll('general')).toEqual(['all of us']);
    expect(await bob2.readAll('general')).toEqual(['all of us']);

    relay.removeMember('general', 'bob');
    await alice1.messenger.sendChannelMessage('general', { text: 'without bob' });
    const second = relay.history('general')[1]!;
    expect(second.encryption.distribution_id).not.toBe(firstChain);
    // The new chain went to alice2 and carol only.
    expect(relay.inbox('bob', bob1.deviceId)).toHaveLength(0);
    expect(relay.inbox('bob', bob2.deviceId)).toHaveLength(0);
    expect(await carol.readAll('general')).toEqual(['all of us', 'without bob']);
    expect(await alice2.readAll('general')).toEqual(['all of us', 'without bob']);
    // bob (who still sees the ciphertext, e.g. through a leaky server) never gets the key.
    expect(show(await bob1.read(second))).toBe('…waiting');
    expect(show(await bob2.read(second))).toBe('…waiting');
  });

  it('a device the server no longer knows is not counted as holding the key', async () => {
    const { relay, alice1, bob1, bob2 } = await world();
    await alice1.messenger.sendDirectMessage('dm-ab', { text: 'warm the device cache' });
    relay.users.get('bob')!.devices.delete(bob2.deviceId); // alice1 has not heard yet
    await alice1.messenger.sendChannelMessage('general', { text: 'one' });
    await alice1.messenger.sendChannelMessage('general', { text: 'two' });
    const [one, two] = relay.history('general');
    // bob2 was reported unknown, so it never counted as a holder: no rotation was needed.
    expect(two!.encryption.distribution_id).toBe(one!.encryption.distribution_id);
    expect(await bob1.readAll('general')).toEqual(['one', 'two']);
  });

  it('removing a device rotates too, and an explicit rotateChannel rotates', async () => {
    const { relay, alice1, bob1, bob2 } = await world();
    await alice1.messenger.sendChannelMessage('general', { text: 'one' });
    relay.users.get('bob')!.devices.delete(bob2.deviceId);
    await alice1.pumpEvents(); // nothing published by this direct removal: the cache backstop is the event
    alice1.messenger.directory.invalidate('bob');
    await alice1.messenger.sendChannelMessage('general', { text: 'two' });
    const [one, two] = relay.history('general');
    expect(two!.encryption.distribution_id).not.toBe(one!.encryption.distribution_id);
    expect(await bob1.readAll('general')).toEqual(['one', 'two']);

    await alice1.messenger.rotateChannel('general');
    await alice1.messenger.sendChannelMessage('general', { text: 'three' });
    const three = relay.history('general')[2]!;
    expect(three.encryption.distribution_id).not.toBe(two!.encryption.distribution_id);
    expect(await bob1.readAll('general')).toEqual(['one', 'two', 'three']);
  });
});

describe('DMs (pairwise)', () => {
  it('each device of each member and the sender’s other devices get their own ciphertext', async () => {
    const { relay, alice1, alice2, bob1, bob2 } = await world();
    const ack = await bob1.messenger.sendDirectMessage('dm-ab', { text: 'hi alice 👋' });
    const sent = relay.message(ack.id);
    expect(sent.encryption).toEqual({ scheme: 'pairwise', device_id: bob1.deviceId });
    const entries = decodePairwiseBody(fromBase64(sent.ciphertext)).map(
      (e) => `${e.address.userId}/${e.address.deviceId}`,
    );
    expect(entries.sort()).toEqual(['alice/1', 'alice/2', 'bob/2']);

    await alice2.messenger.sendDirectMessage('dm-ab', { text: 'hello bob' });
    for (const d of [alice1, alice2, bob1, bob2]) {
      expect(await d.readAll('dm-ab')).toEqual(['hi alice 👋', 'hello bob']);
    }
    // History reloads work although a ratchet message decrypts once: results are cached.
    expect(await alice1.readAll('dm-ab')).toEqual(['hi alice 👋', 'hello bob']);
    // No device messages were needed for DMs.
    expect(relay.calls.filter((c) => c === 'POST /api/device-messages')).toHaveLength(0);
  });

  it('a DM from before a device existed is reported as not for this device', async () => {
    const { relay, ctx, alice1, bob1 } = await world();
    await alice1.messenger.sendDirectMessage('dm-ab', { text: 'early' });
    const bob3 = await TestEndpoint.start(relay, 'bob', ctx, {
      backup: { passphrase: PASS, blob: await bob1.e2e.devices.createKeyBackup(PASS, FAST_BACKUP) },
    });
    expect(await bob3.readAll('dm-ab')).toEqual(['!not_for_this_device']);
  });
});

describe('failures', () => {
  it('tampered or misplaced ciphertexts fail with a reason and never yield text', async () => {
    const { relay, alice1, bob1 } = await world();
    relay.createChannel('other', ['alice', 'bob']);
    await alice1.messenger.sendChannelMessage('general', { text: 'secret 1' });
    await alice1.messenger.sendChannelMessage('general', { text: 'secret 2' });
    await alice1.messenger.sendDirectMessage('dm-ab', { text: 'secret 3' });
    await bob1.sync();
    const [g1, g2] = relay.history('general');
    const [d1] = relay.history('dm-ab');

    const tamperEntry = (b64: string, userId: string, deviceId: number) => {
      const entries = decodePairwiseBody(fromBase64(b64));
      const mine = entries.find((e) => e.address.userId === userId && e.address.deviceId === deviceId)!;
      mine.ciphertext[mine.ciphertext.length - 1]! ^= 1;
      return toBase64(encodePairwiseBody(entries));
    };
    const flip = (b64: string, at: number) => {
      const bytes = fromBase64(b64);
      bytes[at < 0 ? bytes.length + at : at]! ^= 1;
      return toBase64(bytes);
    };
    const results = [
      await bob1.read({ ...g1!, ciphertext: flip(g1!.ciphertext, -1) }), // signature
      await bob1.read({ ...g1!, ciphertext: flip(g1!.ciphertext, -70) }), // ciphertext under the signature
      await bob1.read({ ...g1!, ciphertext: 'not base64!' }),
      await bob1.read({ ...g1!, encryption: { ...g1!.encryption, device_id: undefined } }),
      await bob1.read({ ...g1!, sender_id: 'mallory' }), // re-attributed
      await bob1.read({ ...g1!, channel_id: 'other' }), // moved to another channel
      await bob1.read({ ...g2!, encryption: { ...g2!.encryption, scheme: 'pairwise' } }),
      await bob1.read({ ...d1!, ciphertext: tamperEntry(d1!.ciphertext, 'bob', bob1.deviceId) }),
      await bob1.read({ ...d1!, ciphertext: toBase64(fromBase64(d1!.ciphertext).slice(0, 20)) }),
    ];
    for (const r of results) {
      expect(r.status).not.toBe('ok');
      expect(r).not.toHaveProperty('plaintext');
    }
    expect(results.map(show)).toEqual([
      '!bad_signature',
      '!bad_signature',
      '!invalid_encoding',
      '!missing_device_id',
      '…waiting', // no chain from that sender: nothing to decrypt it with
      '!invalid_message',
      '!invalid_format',
      '!decrypt_failed',
      '!invalid_format',
    ]);
    // The genuine messages still decrypt after all that.
    expect(await bob1.readAll('general')).toEqual(['secret 1', 'secret 2']);
    expect(await bob1.readAll('dm-ab')).toEqual(['secret 3']);
  });

  it('a changed identity blocks sending to that contact until accepted', async () => {
    const { relay, ctx, alice1, alice2, bob1 } = await world();
    await alice1.messenger.sendDirectMessage('dm-ab', { text: 'before' });
    await alice1.messenger.sendChannelMessage('general', { text: 'before in channel' });
    expect(await bob1.readAll('dm-ab')).toEqual(['before']);
    // Trust is per device: alice2 records bob's key when it first hears from him.
    await bob1.messenger.sendDirectMessage('dm-ab', { text: 'hi from bob1' });
    expect(await alice2.readAll('dm-ab')).toEqual(['before', 'hi from bob1']);
    expect((await alice1.messenger.trust('bob'))?.state).toBe('unverified');

    // bob starts over on a new device with a new identity: the server drops his old devices.
    const bob3 = await TestEndpoint.start(relay, 'bob', ctx, { kv: new MemoryKeyValueStore(), resetIdentity: true });
    expect([...relay.users.get('bob')!.devices.keys()]).toEqual([bob3.deviceId]);
    await alice1.pumpEvents(); // identity.changed
    expect(alice1.identityChanges).toEqual(['bob']);
    expect(await alice1.messenger.untrustedContacts()).toEqual(['bob']);
    const trust = await alice1.messenger.trust('bob');
    expect(trust?.state).toBe('changed');
    expect(trust?.pendingIdentityKey).toEqual(bob3.e2e.devices.state!.identity.publicKey);

    const dmErr = await expectE2ECode(alice1.messenger.sendDirectMessage('dm-ab', { text: 'x' }), 'untrusted_identity');
    expect((dmErr as { userIds: string[] }).userIds).toEqual(['bob']);
    await expectE2ECode(alice1.messenger.sendChannelMessage('general', { text: 'x' }), 'untrusted_identity');
    // alice2 learns it from the same events.
    await alice2.pumpEvents();
    expect(alice2.identityChanges).toEqual(['bob']);
    await expectE2ECode(alice2.messenger.sendDirectMessage('dm-ab', { text: 'x' }), 'untrusted_identity');

    // bob3 writes first; alice cannot read it until she accepts, then the retry event names it.
    await bob3.messenger.sendDirectMessage('dm-ab', { text: 'new phone, who dis' });
    expect(await alice1.readAll('dm-ab')).toEqual(['before', 'hi from bob1', '!untrusted_identity']);
    await alice1.messenger.accept('bob');
    expect(alice1.retries.flat().map((m) => m.channel_id)).toEqual(['dm-ab']);
    expect(await alice1.readAll('dm-ab')).toEqual(['before', 'hi from bob1', 'new phone, who dis']);
    expect((await alice1.messenger.trust('bob'))?.state).toBe('unverified');

    await alice1.messenger.sendDirectMessage('dm-ab', { text: 'welcome back' });
    await alice1.messenger.sendChannelMessage('general', { text: 'channel again' });
    expect(await bob3.readAll('dm-ab')).toEqual([
      '!not_for_this_device',
      '!not_for_this_device',
      'new phone, who dis',
      'welcome back',
    ]);
    const general = await bob3.readAll('general');
    expect(general.at(-1)).toBe('channel again');
    // The chain bob's old devices held was replaced.
    const [first, last] = [relay.history('general')[0]!, relay.history('general').at(-1)!];
    expect(last.encryption.distribution_id).not.toBe(first.encryption.distribution_id);
  });

  it('held device messages from a changed identity are processed once accepted', async () => {
    const { relay, ctx, alice1 } = await world();
    await alice1.messenger.sendChannelMessage('general', { text: 'hi' });
    const bob3 = await TestEndpoint.start(relay, 'bob', ctx, { resetIdentity: true });
    await bob3.messenger.sendChannelMessage('general', { text: 'from bob3' });
    const results = await alice1.sync();
    expect(results.map((r) => r.status)).toEqual(['held']);
    expect(relay.inbox('alice', alice1.deviceId)).toHaveLength(0); // acked: kept locally instead
    expect(await alice1.readAll('general')).toEqual(['hi', '…waiting']);
    await alice1.messenger.accept('bob');
    expect(await alice1.readAll('general')).toEqual(['hi', 'from bob3']);
  });

  it('verifying a contact marks their messages verified', async () => {
    const { relay, alice1, bob1 } = await world();
    await alice1.messenger.sendDirectMessage('dm-ab', { text: 'x' });
    await bob1.sync();
    const msg = relay.history('dm-ab')[0]!;
    expect(await bob1.read(msg)).toMatchObject({ status: 'ok', verified: false });
    const a = await alice1.messenger.trust('bob');
    const b = await bob1.messenger.trust('alice');
    expect(a!.safetyNumber).toMatch(/^\d{60}$/);
    expect(a!.safetyNumber).toBe(b!.safetyNumber);
    await bob1.messenger.markVerified('alice');
    expect(await bob1.read(msg)).toMatchObject({ status: 'ok', verified: true });
  });

  it('no ciphertext leaves when the ratchet state cannot be stored', async () => {
    const { relay, ctx, alice1 } = await world();
    await alice1.messenger.sendDirectMessage('dm-ab', { text: 'works' });
    const inner = new MemoryKeyValueStore();
    let failWrites = false;
    const flaky: KeyValueStore = {
      get: (k) => inner.get(k),
      keys: (p) => inner.keys(p),
      delete: (k) => inner.delete(k),
      set: async (k, v) => {
        if (failWrites && k.startsWith('s/')) throw new Error('disk full');
        await inner.set(k, v);
      },
    };
    const carol = await TestEndpoint.start(relay, 'carol', ctx, { kv: flaky });
    relay.createChannel('dm-ac', ['alice', 'carol']);
    await carol.messenger.sendDirectMessage('dm-ac', { text: 'one' });
    failWrites = true;
    await expect(carol.messenger.sendDirectMessage('dm-ac', { text: 'two' })).rejects.toThrow('disk full');
    expect(relay.history('dm-ac')).toHaveLength(1);
    failWrites = false;
    await carol.messenger.sendDirectMessage('dm-ac', { text: 'three' });
    expect(await alice1.readAll('dm-ac')).toEqual(['one', 'three']);
  });

  it('a device message that does not decrypt is reported and does not stop the inbox', async () => {
    const { relay, alice1, bob1 } = await world();
    await alice1.messenger.sendChannelMessage('general', { text: 'ok' });
    const pending = relay.inbox('bob', bob1.deviceId);
    pending.unshift({ ...pending[0]!, id: 'dm-forged', ciphertext: toBase64(Uint8Array.of(1, 2, 3, 4)) });
    const results = await bob1.sync();
    expect(results.map((r) => r.status)).toEqual(['failed', 'ok']);
    expect(await bob1.readAll('general')).toEqual(['ok']);
  });
});

/** type_confusion: a message of one type is never accepted as another. */
import { describe, expect, it } from 'vitest';
import { concat } from '../src/bytes.js';
import { decodeEnvelope, encodeEnvelope } from '../src/envelope.js';
import {
  acceptProvisioningRequest,
  createKeyBackup,
  createProvisioningRequest,
  CryptoError,
  decryptFile,
  encryptFile,
  generateIdentityKeyPair,
  MessageType,
  openPairwiseMessage,
  peekEnvelopeType,
  restoreKeyBackup,
  revealProvisioningKey,
  confirmProvisioningKey,
  sealSenderKeyDistribution,
  type CryptoErrorCode,
} from '../src/index.js';
import { TestDevice, testContext, text } from './helpers.js';

async function expectCode(p: Promise<unknown>, code: CryptoErrorCode | CryptoErrorCode[]): Promise<void> {
  const codes = Array.isArray(code) ? code : [code];
  await expect(p).rejects.toSatisfy((e: unknown) => e instanceof CryptoError && codes.includes(e.code));
}

async function setup() {
  const ctx = testContext('confusion');
  const alice = await TestDevice.create(ctx, 'alice', 1);
  const bob = await TestDevice.create(ctx, 'bob', 1);
  await alice.sessions.processPreKeyBundle(await bob.bundle());
  const prekey = await alice.sessions.encrypt(bob.address, text('first'));
  await bob.sessions.decrypt(alice.address, prekey);
  const ratchet = await bob.sessions.encrypt(alice.address, text('reply'));
  const dist = await alice.groups.createDistribution('g');
  const group = await alice.groups.encrypt('g', text('group'));
  return { ctx, alice, bob, prekey, ratchet, dist, group };
}

describe('type_confusion', () => {
  it('each decoder refuses every other message type', async () => {
    const { ctx, alice, bob, prekey, ratchet, dist, group } = await setup();
    await expectCode(bob.groups.decrypt(alice.address, 'g', ratchet), 'wrong_message_type');
    await expectCode(alice.sessions.decrypt(bob.address, group), 'wrong_message_type');
    await expectCode(alice.sessions.decrypt(bob.address, dist), 'wrong_message_type');
    await expectCode(restoreKeyBackup(ctx, 'pw', prekey), 'wrong_message_type');
    await expectCode(decryptFile(ctx, new Uint8Array(32), concat(ratchet, new Uint8Array(40))), 'wrong_message_type');
    expect(() => acceptProvisioningRequest(ctx, ratchet)).toThrow(
      expect.objectContaining({ code: 'wrong_message_type' }),
    );
    const n = createProvisioningRequest(ctx);
    const e = acceptProvisioningRequest(ctx, n.request);
    // a request (same 32-byte shape) is not a reveal, a hello is not a request
    expect(() => confirmProvisioningKey(e.state, n.request)).toThrow(
      expect.objectContaining({ code: 'wrong_message_type' }),
    );
    expect(() => acceptProvisioningRequest(ctx, e.hello)).toThrow(
      expect.objectContaining({ code: 'wrong_message_type' }),
    );
    expect(() => revealProvisioningKey(n.state, n.request)).toThrow(
      expect.objectContaining({ code: 'wrong_message_type' }),
    );
  });

  it('rewriting the type byte does not help: labels are bound into authentication', async () => {
    const { alice, bob, ratchet } = await setup();
    // A ratchet message re-labelled as ... a ratchet message built from a prekey message body
    // (strip the prekey header): the AEAD was computed under the prekey-message label.
    const alice2 = await TestDevice.create(testContext('confusion-2'), 'alice', 1);
    await alice2.sessions.processPreKeyBundle(await bob.bundle());
    const p = await alice2.sessions.encrypt(bob.address, text('x'));
    const body = decodeEnvelope(p, MessageType.PreKeyMessage);
    const asRatchet = encodeEnvelope(MessageType.RatchetMessage, body.slice(73));
    await expectCode(bob.sessions.decrypt(alice.address, asRatchet), 'decrypt_failed');
    // A ratchet message re-typed as a sender-key message, and vice versa.
    const retyped = ratchet.slice();
    retyped[1] = MessageType.SenderKeyMessage;
    await expectCode(bob.groups.decrypt(alice.address, 'g', retyped), ['invalid_message', 'no_sender_key']);
    const r2 = ratchet.slice();
    r2[1] = MessageType.PreKeyMessage;
    await expectCode(alice.sessions.decrypt(bob.address, r2), ['invalid_message', 'decrypt_failed', 'invalid_key']);
  });

  it('a sender-key distribution is not an application message, and an application message is not a distribution', async () => {
    const { alice, bob, dist } = await setup();
    const wire = await sealSenderKeyDistribution(alice.sessions, bob.address, dist);
    await expectCode(bob.sessions.decrypt(alice.address, wire), 'wrong_message_type');
    const app = await alice.sessions.encrypt(bob.address, dist); // distribution bytes as application data
    const got = await openPairwiseMessage(bob.sessions, bob.groups, alice.address, app);
    expect(got.kind).toBe('application'); // delivered as data, never installed as a key
    await expectCode(
      bob.groups.decrypt(alice.address, 'g', await alice.groups.encrypt('g', text('y'))),
      'no_sender_key',
    );
  });

  it('a key backup blob is not a provisioning message and vice versa', async () => {
    const { ctx } = await setup();
    const identity = generateIdentityKeyPair(ctx);
    const blob = await createKeyBackup(
      ctx,
      'pw',
      { userId: 'a', identity, extra: new Uint8Array(0) },
      { logN: 15, r: 8, p: 1 },
    );
    expect(peekEnvelopeType(blob)).toBe(MessageType.KeyBackup);
    const n = createProvisioningRequest(ctx);
    await expectCode(restoreKeyBackup(ctx, 'pw', n.request), 'wrong_message_type');
    const file = await encryptFile(ctx, text('f'));
    await expectCode(restoreKeyBackup(ctx, 'pw', file.ciphertext), 'wrong_message_type');
  });
});

/**
 * Computes the construction vectors from a fixed RNG and clock. `constructions.json` holds
 * the committed output; `vectors.test.ts` recomputes and compares, so any change to a wire
 * format, label or derivation fails until the vectors are regenerated on purpose with
 * `npx tsx packages/crypto/test/vectors/generate.ts` (and the version bumped).
 */
import { toHex } from '../../src/bytes.js';
import {
  acceptProvisioningRequest,
  confirmProvisioningKey,
  createKeyBackup,
  createProvisioningRequest,
  encryptFile,
  fingerprint,
  generateIdentityKeyPair,
  generateOneTimePreKeys,
  generateSignedPreKey,
  makePreKeyBundle,
  revealProvisioningKey,
  safetyNumber,
  sealProvisioningPayload,
} from '../../src/index.js';
import { x3dhInitiate } from '../../src/x3dh.js';
import { TestDevice, testContext, text } from '../helpers.js';

export async function computeVectors(): Promise<Record<string, string>> {
  const v: Record<string, string> = {};
  const ctx = testContext('chatalot-vectors-v1');

  // X3DH
  const ikA = generateIdentityKeyPair(ctx);
  const ikB = generateIdentityKeyPair(ctx);
  const spk = generateSignedPreKey(ctx, ikB, 7);
  const [opk] = generateOneTimePreKeys(ctx, 100, 1);
  const bundle = makePreKeyBundle('bob', 1, ikB, spk, opk);
  const x = x3dhInitiate(ctx, { identity: ikA, address: { userId: 'alice', deviceId: 1 } }, bundle);
  v.identityA = toHex(ikA.publicKey);
  v.identityB = toHex(ikB.publicKey);
  v.signedPreKeySignature = toHex(spk.signature);
  v.x3dhSharedSecret = toHex(x.sharedSecret);
  v.x3dhAssociatedData = toHex(x.associatedData);

  // Double Ratchet through sessions
  const alice = await TestDevice.create(ctx, 'alice', 1, undefined, 2);
  const bob = await TestDevice.create(ctx, 'bob', 1, undefined, 2);
  await alice.sessions.processPreKeyBundle(await bob.bundle());
  const m1 = await alice.sessions.encrypt(bob.address, text('vector message 1'));
  await bob.sessions.decrypt(alice.address, m1);
  const r1 = await bob.sessions.encrypt(alice.address, text('vector reply 1'));
  await alice.sessions.decrypt(bob.address, r1);
  const m2 = await alice.sessions.encrypt(bob.address, text('vector message 2'));
  v.preKeyMessage = toHex(m1);
  v.ratchetReply = toHex(r1);
  v.ratchetMessage = toHex(m2);

  // Sender keys
  const dist = await alice.groups.createDistribution('group-1');
  v.senderKeyDistribution = toHex(dist);
  v.senderKeyMessage = toHex(await alice.groups.encrypt('group-1', text('vector group message')));

  // Safety numbers
  v.safetyNumber = safetyNumber({ userId: 'alice', identityKey: ikA.publicKey }, { userId: 'bob', identityKey: ikB.publicKey });
  v.fingerprintA = fingerprint(ikA.publicKey);

  // File encryption
  const file = await encryptFile(ctx, new Uint8Array(2500).map((_, i) => i & 0xff), { chunkSize: 1024 });
  v.fileKey = toHex(file.key);
  v.fileCiphertext = toHex(file.ciphertext);

  // Provisioning
  const n = createProvisioningRequest(ctx);
  const e = acceptProvisioningRequest(ctx, n.request);
  const { reveal, code } = revealProvisioningKey(n.state, e.hello);
  confirmProvisioningKey(e.state, reveal);
  v.provisioningRequest = toHex(n.request);
  v.provisioningHello = toHex(e.hello);
  v.provisioningReveal = toHex(reveal);
  v.provisioningCode = code;
  v.provisioningMessage = toHex(sealProvisioningPayload(ctx, e.state, { userId: 'alice', identity: ikA, extra: text('x') }));

  // Key backup (lowest accepted cost, to keep the test fast)
  v.keyBackup = toHex(await createKeyBackup(ctx, 'vector passphrase', { userId: 'alice', identity: ikA, extra: new Uint8Array(0) }, { logN: 15, r: 8, p: 1 }));
  return v;
}

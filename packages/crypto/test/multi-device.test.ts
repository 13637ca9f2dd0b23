/** Several devices per user: provisioning, key backup, fan-out. */
import { describe, expect, it } from 'vitest';
import {
  acceptProvisioningRequest,
  backupParams,
  confirmProvisioningKey,
  createKeyBackup,
  createProvisioningRequest,
  CryptoError,
  DEFAULT_BACKUP_PARAMS,
  generateIdentityKeyPair,
  openProvisioningPayload,
  restoreKeyBackup,
  revealProvisioningKey,
  sealProvisioningPayload,
  type CryptoContext,
  type CryptoErrorCode,
  type ProtocolAddress,
} from '../src/index.js';
import { TestDevice, testContext, text, str } from './helpers.js';

function expectCodeSync(fn: () => unknown, code: CryptoErrorCode): void {
  expect(fn).toThrow(expect.objectContaining({ code }));
}

async function expectCode(p: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => e instanceof CryptoError && e.code === code);
}

function link(ctx: CryptoContext) {
  const n = createProvisioningRequest(ctx);
  const e = acceptProvisioningRequest(ctx, n.request);
  const { reveal, code: newCode } = revealProvisioningKey(n.state, e.hello);
  const { code: oldCode } = confirmProvisioningKey(e.state, reveal);
  return { n, e, newCode, oldCode };
}

describe('provisioning', () => {
  it('both sides display the same code, and the identity arrives intact', () => {
    const ctx = testContext('prov');
    const identity = generateIdentityKeyPair(ctx);
    const { n, e, newCode, oldCode } = link(ctx);
    expect(newCode).toMatch(/^\d{6}$/);
    expect(newCode).toBe(oldCode);
    const msg = sealProvisioningPayload(ctx, e.state, { userId: 'alice', identity, extra: text('device 2') });
    const got = openProvisioningPayload(ctx, n.state, msg);
    expect(got.userId).toBe('alice');
    expect(got.identity).toEqual(identity);
    expect(str(got.extra)).toBe('device 2');
  });

  it('a relay substituting keys produces different codes and cannot open the payload', () => {
    const ctx = testContext('prov-mitm');
    const identity = generateIdentityKeyPair(ctx);
    const n = createProvisioningRequest(ctx);
    const mitmToOld = createProvisioningRequest(ctx); // relay pretends to be the new device
    const e = acceptProvisioningRequest(ctx, mitmToOld.request);
    const mitmToNew = acceptProvisioningRequest(ctx, n.request); // and the existing one
    const { code: newCode } = revealProvisioningKey(n.state, mitmToNew.hello);
    const { reveal: relayReveal } = revealProvisioningKey(mitmToOld.state, e.hello);
    const { code: oldCode } = confirmProvisioningKey(e.state, relayReveal);
    expect(newCode).not.toBe(oldCode);
    // Forwarding the real reveal instead breaks the commitment.
    const { reveal } = revealProvisioningKey(n.state, e.hello);
    const fresh = acceptProvisioningRequest(ctx, mitmToOld.request);
    expectCodeSync(() => confirmProvisioningKey(fresh.state, reveal), 'decrypt_failed');
    const msg = sealProvisioningPayload(ctx, e.state, { userId: 'alice', identity, extra: new Uint8Array(0) });
    const n2 = createProvisioningRequest(ctx);
    revealProvisioningKey(n2.state, e.hello);
    expectCodeSync(() => openProvisioningPayload(ctx, n2.state, msg), 'decrypt_failed');
  });

  it('the payload is not sealed before the code was confirmed, and tampering is detected', () => {
    const ctx = testContext('prov-order');
    const identity = generateIdentityKeyPair(ctx);
    const n = createProvisioningRequest(ctx);
    const e = acceptProvisioningRequest(ctx, n.request);
    expectCodeSync(
      () => sealProvisioningPayload(ctx, e.state, { userId: 'a', identity, extra: new Uint8Array(0) }),
      'invalid_state',
    );
    const { reveal } = revealProvisioningKey(n.state, e.hello);
    confirmProvisioningKey(e.state, reveal);
    const msg = sealProvisioningPayload(ctx, e.state, { userId: 'a', identity, extra: new Uint8Array(0) });
    const bad = msg.slice();
    bad[bad.length - 1]! ^= 1;
    expectCodeSync(() => openProvisioningPayload(ctx, n.state, bad), 'decrypt_failed');
  });
});

describe('key backup', () => {
  it('round trip with the default (strong) parameters', async () => {
    const ctx = testContext('backup');
    const identity = generateIdentityKeyPair(ctx);
    const blob = await createKeyBackup(ctx, 'correct horse battery staple', {
      userId: 'alice',
      identity,
      extra: text('x'),
    });
    expect(backupParams(blob)).toEqual(DEFAULT_BACKUP_PARAMS);
    const got = await restoreKeyBackup(ctx, 'correct horse battery staple', blob);
    expect(got.identity).toEqual(identity);
    expect(got.userId).toBe('alice');
  });

  it('wrong passphrase, tampered parameters and weak parameters are refused', async () => {
    const ctx = testContext('backup-wrong');
    const identity = generateIdentityKeyPair(ctx);
    const params = { logN: 15, r: 8, p: 1 };
    const blob = await createKeyBackup(
      ctx,
      'pass phrase',
      { userId: 'alice', identity, extra: new Uint8Array(0) },
      params,
    );
    await expectCode(restoreKeyBackup(ctx, 'pass phrase!', blob), 'bad_passphrase');
    const changed = blob.slice();
    changed[2] = 16; // logN 15 -> 16: different key, and the parameters are authenticated
    await expectCode(restoreKeyBackup(ctx, 'pass phrase', changed), 'bad_passphrase');
    const huge = blob.slice();
    huge[2] = 30;
    await expectCode(restoreKeyBackup(ctx, 'pass phrase', huge), 'invalid_parameters');
    await expectCode(
      createKeyBackup(ctx, 'x', { userId: 'a', identity, extra: new Uint8Array(0) }, { logN: 10, r: 8, p: 1 }),
      'invalid_parameters',
    );
    expect((await restoreKeyBackup(ctx, 'pass phrase', blob)).identity).toEqual(identity);
  });
});

describe('devices', () => {
  it('linked_device_receives_and_sends', async () => {
    const ctx = testContext('linked');
    const alice1 = await TestDevice.create(ctx, 'alice', 1);
    const bob = await TestDevice.create(ctx, 'bob', 1);
    // link alice's second device
    const { n, e, newCode, oldCode } = link(ctx);
    expect(newCode).toBe(oldCode);
    const payload = openProvisioningPayload(
      ctx,
      n.state,
      sealProvisioningPayload(ctx, e.state, { userId: 'alice', identity: alice1.identity, extra: new Uint8Array(0) }),
    );
    const alice2 = await TestDevice.create(ctx, 'alice', 2, payload.identity);
    const devices: Record<string, TestDevice> = { '1.alice': alice1, '2.alice': alice2, '1.bob': bob };
    const fetch = async (a: ProtocolAddress) => devices[`${a.deviceId}.${a.userId}`]!.bundle();

    // bob -> every device of alice
    const out = await bob.sessions.fanOut(text('hi alice'), [{ userId: 'alice', deviceIds: [1, 2] }], [], fetch);
    expect(out.map((o) => `${o.address.deviceId}.${o.address.userId}`)).toEqual(['1.alice', '2.alice']);
    for (const o of out)
      expect(
        str(await devices[`${o.address.deviceId}.${o.address.userId}`]!.sessions.decrypt(bob.address, o.message)),
      ).toBe('hi alice');

    // alice2 -> bob and alice's other device (not itself)
    const out2 = await alice2.sessions.fanOut(
      text('hi from my laptop'),
      [{ userId: 'bob', deviceIds: [1] }],
      [1, 2],
      fetch,
    );
    expect(out2.map((o) => `${o.address.deviceId}.${o.address.userId}`)).toEqual(['1.bob', '1.alice']);
    expect(str(await bob.sessions.decrypt(alice2.address, out2[0]!.message))).toBe('hi from my laptop');
    expect(str(await alice1.sessions.decrypt(alice2.address, out2[1]!.message))).toBe('hi from my laptop');

    // both of alice's devices share one identity, so bob sees one safety number
    expect((await bob.trustStore.loadTrust('alice'))!.identityKey).toEqual(alice1.identity.publicKey);
  });

  it('an own device presenting another identity key is refused', async () => {
    const ctx = testContext('own-other');
    const alice1 = await TestDevice.create(ctx, 'alice', 1);
    const impostor = await TestDevice.create(ctx, 'alice', 3);
    await expectCode(alice1.sessions.processPreKeyBundle(await impostor.bundle()), 'untrusted_identity');
  });

  it('fan-out aborts before encrypting when one recipient identity is untrusted', async () => {
    const ctx = testContext('fanout-untrusted');
    const alice = await TestDevice.create(ctx, 'alice', 1);
    const bob1 = await TestDevice.create(ctx, 'bob', 1);
    const bob2 = await TestDevice.create(ctx, 'bob', 2); // a different identity: not bob's
    const devices: Record<string, TestDevice> = { '1.bob': bob1, '2.bob': bob2 };
    const fetch = async (a: ProtocolAddress) => devices[`${a.deviceId}.${a.userId}`]!.bundle();
    await expectCode(
      alice.sessions.fanOut(text('x'), [{ userId: 'bob', deviceIds: [1, 2] }], [], fetch),
      'untrusted_identity',
    );
  });
});

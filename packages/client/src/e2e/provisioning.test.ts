import { defaultContext, generateLinkKeyPair, isCryptoError } from '@chatalot/crypto';
import { describe, expect, it } from 'vitest';
import { KeysApi } from './api.js';
import { fromBase64, toBase64, toBase64Url } from './bytes.js';
import { isE2EError } from './errors.js';
import { approveDeviceLink, DeviceLink, inspectLinkCode, parseLinkCode, ProvisioningApi } from './provisioning.js';
import { TestClock, TestEndpoint, testContext } from './test-harness.js';
import { TestRelay } from './test-relay.js';

/** alice's first device, and a second browser of hers that has no key yet. */
async function world() {
  const relay = new TestRelay();
  const ctx = testContext(new TestClock());
  const alice1 = await TestEndpoint.start(relay, 'alice', ctx);
  const bob = await TestEndpoint.start(relay, 'bob', ctx);
  relay.createChannel('dm-ab', ['alice', 'bob']);
  const newApi = new ProvisioningApi(relay.requester('alice'));
  const open = () =>
    DeviceLink.open({
      api: newApi,
      userId: 'alice',
      deviceName: 'Firefox on Linux',
      ctx,
      keys: new KeysApi(relay.requester('alice')),
      pollMs: { first: 1, factor: 2, max: 4 },
    });
  return { relay, ctx, alice1, bob, open };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return isE2EError(err) || isCryptoError(err) ? err.code : (err as { code?: string }).code;
  }
}

describe('linking a device', () => {
  it('hands the identity to the new device, which registers and reads new messages', async () => {
    const { relay, ctx, alice1, bob, open } = await world();
    const link = await open();
    expect(link.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$/);

    // On the existing device: the typed code (lower case, spaces) names the new device.
    const request = await inspectLinkCode(alice1.e2e.provisioning, link.code.toLowerCase().replace(/-/g, ' '));
    expect(request).toMatchObject({ sessionId: link.sessionId, deviceName: 'Firefox on Linux', approved: false });
    await approveDeviceLink(alice1.e2e.provisioning, request, (await alice1.e2e.store.loadIdentity())!, ctx);

    const identity = await link.wait();
    expect(identity?.publicKey).toEqual(alice1.e2e.devices.state!.identity.publicKey);
    expect(relay.linkSessions.size).toBe(0);

    const alice2 = await TestEndpoint.start(relay, 'alice', ctx, { linkedIdentity: identity! });
    expect(alice2.deviceId).toBe(2);
    expect(relay.users.get('alice')!.devices.get(2)!.oneTimePreKeys).toHaveLength(100);

    await bob.messenger.sendDirectMessage('dm-ab', { text: 'hello both of you' });
    expect(await alice2.readAll('dm-ab')).toEqual(['hello both of you']);
    expect(await alice1.readAll('dm-ab')).toEqual(['hello both of you']);
    await alice2.messenger.sendDirectMessage('dm-ab', { text: 'from the new browser' });
    expect(await bob.readAll('dm-ab')).toEqual(['hello both of you', 'from the new browser']);
  });

  it('refuses a code whose key tag does not match the key the server holds', async () => {
    const { relay, alice1, open } = await world();
    const link = await open();
    const parsed = parseLinkCode(link.code)!;
    const last = parsed.tag.at(-1) === '0' ? '1' : '0';
    const wrongTag = parsed.sessionId + parsed.tag.slice(0, -1) + last;
    expect(await codeOf(inspectLinkCode(alice1.e2e.provisioning, wrongTag))).toBe('untrusted_identity');

    // A server that swaps in its own key is caught the same way.
    const entry = relay.linkSessions.get(link.sessionId)!;
    entry.session.ephemeral_key = toBase64Url(generateLinkKeyPair(defaultContext()).publicKey);
    expect(await codeOf(inspectLinkCode(alice1.e2e.provisioning, link.code))).toBe('untrusted_identity');
    expect(await codeOf(inspectLinkCode(alice1.e2e.provisioning, 'not a code'))).toBe('invalid_format');
  });

  it('an envelope changed in transit does not open', async () => {
    const { relay, ctx, alice1, open } = await world();
    const link = await open();
    relay.tamper = (envelope) => {
      const bytes = fromBase64(envelope);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
      return toBase64(bytes);
    };
    const request = await inspectLinkCode(alice1.e2e.provisioning, link.code);
    await approveDeviceLink(alice1.e2e.provisioning, request, (await alice1.e2e.store.loadIdentity())!, ctx);
    expect(await codeOf(link.wait())).toBe('decrypt_failed');
  });

  it('an envelope sealed for another session does not open in this one', async () => {
    const { relay, ctx, alice1, open } = await world();
    const first = await open();
    const second = await open();
    const request = await inspectLinkCode(alice1.e2e.provisioning, first.code);
    // Approved for the first session, but delivered to the second (same key would be needed too).
    await approveDeviceLink(
      alice1.e2e.provisioning,
      { ...request, sessionId: second.sessionId, ephemeralKey: request.ephemeralKey },
      (await alice1.e2e.store.loadIdentity())!,
      ctx,
    );
    expect(await codeOf(second.wait())).toBe('decrypt_failed');
    expect(relay.linkSessions.get(first.sessionId)!.envelope).toBeNull();
  });

  it('refuses an identity that is not the account’s', async () => {
    const { ctx, bob, open } = await world();
    const link = await open();
    // bob (another account) cannot even see alice's session on the real server; here the
    // relay lets the request through as alice to show the new device's own check.
    const bobIdentity = (await bob.e2e.store.loadIdentity())!;
    const request = await inspectLinkCode(new ProvisioningApi(bob.relay.requester('alice')), link.code);
    await approveDeviceLink(
      new ProvisioningApi(bob.relay.requester('alice')),
      request,
      { ...bobIdentity, userId: 'alice' },
      ctx,
    );
    expect(await codeOf(link.wait())).toBe('invalid_format');
  });

  it('stops waiting when aborted, and cancel ends the session', async () => {
    const { relay, open } = await world();
    const link = await open();
    const controller = new AbortController();
    const waiting = link.wait(controller.signal);
    controller.abort();
    expect(await waiting).toBeUndefined();
    await link.cancel();
    expect(relay.linkSessions.has(link.sessionId)).toBe(false);
    await link.cancel(); // already gone: no error
  });
});

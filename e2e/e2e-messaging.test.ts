// End-to-end encryption through the real server: the SDK's E2E layer (@chatalot/client
// src/e2e) on four devices of two people (plus a late joiner), talking through the key
// service, the device inbox and the message store of a real `npm start` process. Node only:
// REST for sends, history and the device inbox; a WebSocket (the `ws` package) for live
// `device.message` and key events.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ChannelList,
  Community,
  CommunityInvite,
  Dm,
  Group,
  GroupMemberList,
  MessageAck,
  MessagePage,
  OwnDeviceList,
  type Message,
  type SendMessage,
} from '@chatalot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type RunningServer, startServer } from '../apps/server/test/start-process.js';
import {
  AuthClient,
  E2EClient,
  MemoryKeyValueStore,
  isE2EError,
  retryRateLimited,
  type AuthedRequester,
  type DecryptResult,
} from '../packages/client/src/index.js';

const PASSWORD = 'end-to-end encrypted 2024';
const POLL = { timeout: 15_000 };
const FAST_BACKUP = { logN: 15, r: 8, p: 1 };

interface Person {
  id: string;
  username: string;
}

/** One device: its own session (AuthClient), its own key store, its E2E client. */
interface Device {
  name: string;
  person: Person;
  auth: AuthClient;
  /** `auth` retrying `rate_limited` (every device here shares one IP and its REST bucket). */
  api: AuthedRequester;
  token: () => string;
  e2e: E2EClient;
  socket?: LiveSocket;
}

/** A gateway socket that hands every event to the device's E2E layer, as an app does. */
class LiveSocket {
  readonly events: { type: string; [k: string]: unknown }[] = [];
  readonly errors: unknown[] = [];
  private handling: Promise<unknown> = Promise.resolve();

  private constructor(readonly ws: WebSocket) {}

  static async open(server: RunningServer, device: Device, withDevice: boolean): Promise<LiveSocket> {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws`);
    const live = new LiveSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const ready = new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string; [k: string]: unknown };
        if (frame.type === 'ready') resolve();
        else if (frame.type === 'error' && frame.op === 'auth') reject(new Error(String(frame.message)));
        else if (!['ack', 'error', 'resumed', 'resume.gap'].includes(frame.type)) {
          live.events.push(frame);
          live.handling = live.handling
            .then(() => device.e2e.handleEvent(frame))
            .catch((err: unknown) => live.errors.push(err));
        }
      });
      ws.once('close', (code) => reject(new Error(`socket closed ${code}`)));
    });
    ws.send(
      JSON.stringify({
        op: 'auth',
        token: device.token(),
        ...(withDevice ? { device_id: device.e2e.messenger.address.deviceId } : {}),
      }),
    );
    await ready;
    return live;
  }

  /** Resolves once every event received so far has been handled. */
  settled(): Promise<unknown> {
    return this.handling;
  }

  close(): void {
    this.ws.close();
  }
}

function show(r: DecryptResult): string {
  if (r.status === 'ok') return r.plaintext;
  if (r.status === 'failed') return `!${r.reason}`;
  return '…waiting';
}

describe('end-to-end encryption through the real server', () => {
  let server: RunningServer;
  let alice: Person;
  let bob: Person;
  let inviteCode: string;
  let communityId: string;
  let groupId: string;
  let channelId: string;
  let dmId: string;
  const devices: Record<string, Device> = {};

  /** Members of the channel (group members) or the DM (the others plus the caller). */
  async function members(device: Device, channel: string): Promise<string[]> {
    if (channel === channelId) {
      const res = await device.api.authed(`/api/groups/${groupId}/members`, { response: GroupMemberList });
      return res.members.map((m) => m.user_id);
    }
    const dm = await device.api.authed(`/api/dms/${channel}`, { response: Dm });
    return [device.person.id, ...dm.members.map((m) => m.id)];
  }

  async function signIn(name: string, person: Person, register?: { invite_code?: string }): Promise<AuthClient> {
    let token = '';
    const auth = new AuthClient({ baseUrl: server.url, onTokens: (t) => (token = t.accessToken) });
    if (register) {
      person.id = (await auth.register({ username: person.username, password: PASSWORD, ...register })).user.id;
    } else {
      const outcome = await auth.login({ username: person.username, password: PASSWORD, device_name: name });
      if (outcome.status !== 'signed_in') throw new Error(`${name}: ${outcome.status}`);
      person.id = outcome.user.id;
    }
    tokens.set(auth, () => token);
    return auth;
  }
  const tokens = new Map<AuthClient, () => string>();

  async function startDevice(
    name: string,
    person: Person,
    auth: AuthClient,
    options: { backupFrom?: Device; resetIdentity?: boolean } = {},
  ): Promise<Device> {
    const device = { name, person, auth, api: retryRateLimited(auth), token: tokens.get(auth)! } as Device;
    const backup = options.backupFrom
      ? { passphrase: PASSWORD, blob: await options.backupFrom.e2e.devices.createKeyBackup(PASSWORD, FAST_BACKUP) }
      : undefined;
    device.e2e = await E2EClient.start({
      userId: person.id,
      kv: new MemoryKeyValueStore(),
      api: auth,
      channelMembers: (channel) => members(device, channel),
      send: ({ channel_id, ...body }: SendMessage) =>
        device.api.authed(`/api/channels/${channel_id}/messages`, { method: 'POST', body, response: MessageAck }),
      ...(backup ? { backup } : {}),
      ...(options.resetIdentity ? { resetIdentity: true } : {}),
    });
    devices[name] = device;
    return device;
  }

  async function history(device: Device, channel: string): Promise<Message[]> {
    const page = await device.api.authed(`/api/channels/${channel}/messages?after=0&limit=100`, {
      response: MessagePage,
    });
    return page.messages;
  }

  /** Syncs the device inbox over REST, then decrypts the whole conversation. */
  async function readAll(device: Device, channel: string): Promise<string[]> {
    await device.e2e.messenger.syncDeviceInbox(device.e2e.inbox);
    const out: string[] = [];
    for (const m of await history(device, channel)) out.push(show(await device.e2e.messenger.decryptMessage(m)));
    return out;
  }

  beforeAll(async () => {
    server = await startServer({ DATA_DIR: mkdtempSync(path.join(tmpdir(), 'chatalot-e2e-messaging-')) });
    alice = { id: '', username: 'alice' };
    bob = { id: '', username: 'bob' };
    const aliceAuth = await signIn('alice1', alice, {});
    inviteCode = (await aliceAuth.admin.createInvite({ max_uses: 5 })).code;
    const bobAuth = await signIn('bob1', bob, { invite_code: inviteCode });

    const community = await aliceAuth.authed('/api/communities', {
      method: 'POST',
      body: { name: 'Encrypted' },
      response: Community,
    });
    communityId = community.id;
    const group = await aliceAuth.authed(`/api/communities/${communityId}/groups`, {
      method: 'POST',
      body: { name: 'Lobby', visibility: 'public' },
      response: Group,
    });
    groupId = group.id;
    const { channels } = await aliceAuth.authed(`/api/groups/${groupId}/channels`, { response: ChannelList });
    channelId = channels.find((c) => c.name === 'general')!.id;
    const invite = await aliceAuth.authed(`/api/communities/${communityId}/invites`, {
      method: 'POST',
      body: {},
      response: CommunityInvite,
    });
    await bobAuth.authed(`/api/invites/${invite.code}/join`, { method: 'POST' });
    dmId = (await aliceAuth.authed('/api/dms', { method: 'POST', body: { user_id: bob.id }, response: Dm })).id;
    communityInvite = invite.code;

    await startDevice('alice1', alice, aliceAuth);
    await startDevice('bob1', bob, bobAuth);
  });
  let communityInvite: string;

  afterAll(async () => {
    for (const d of Object.values(devices)) {
      expect(d.socket?.errors ?? [], `event handling errors on ${d.name}`).toEqual([]);
      d.socket?.close();
    }
    await server?.stop();
  });

  it('registers devices with the key service: first devices create identities, second devices restore them', async () => {
    const alice2 = await startDevice('alice2', alice, await signIn('alice2', alice), {
      backupFrom: devices.alice1,
    });
    const bob2 = await startDevice('bob2', bob, await signIn('bob2', bob), { backupFrom: devices.bob1 });
    expect(alice2.e2e.messenger.address.deviceId).not.toBe(devices.alice1!.e2e.messenger.address.deviceId);

    const own = await alice2.auth.authed('/api/keys/devices', { response: OwnDeviceList });
    expect(own.devices.map((d) => d.one_time_prekeys)).toEqual([100, 100]);
    expect(bob2.e2e.devices.state!.identity.publicKey).toEqual(devices.bob1!.e2e.devices.state!.identity.publicKey);

    // A third device of alice with neither a link nor a backup is refused before registering.
    const err = await E2EClient.start({
      userId: alice.id,
      kv: new MemoryKeyValueStore(),
      api: alice2.auth,
      channelMembers: async () => [],
    }).catch((e: unknown) => e);
    expect(isE2EError(err, 'provisioning_required')).toBe(true);
  });

  it('channel messages (sender keys) reach every device of every member', async () => {
    const { alice1, alice2, bob1, bob2 } = devices as Record<string, Device>;
    await alice1!.e2e.messenger.sendChannelMessage(channelId, { text: 'hello, encrypted channel' });
    const [sent] = await history(alice1!, channelId);
    expect(sent!.encryption).toMatchObject({ scheme: 'sender_key', device_id: alice1!.e2e.messenger.address.deviceId });
    expect(sent!.ciphertext).not.toContain('hello');

    await bob2!.e2e.messenger.sendChannelMessage(channelId, { text: 'hi from bob’s laptop' });
    for (const d of [alice1!, alice2!, bob1!, bob2!]) {
      expect(await readAll(d, channelId)).toEqual(['hello, encrypted channel', 'hi from bob’s laptop']);
    }
  });

  it('DMs (pairwise) reach every device of both people', async () => {
    const { alice1, alice2, bob1, bob2 } = devices as Record<string, Device>;
    await bob1!.e2e.messenger.sendDirectMessage(dmId, { text: 'psst, alice' });
    await alice2!.e2e.messenger.sendDirectMessage(dmId, { text: 'hi bob' });
    for (const d of [alice1!, alice2!, bob1!, bob2!]) {
      expect(await readAll(d, dmId)).toEqual(['psst, alice', 'hi bob']);
    }
  });

  it('a live device.message over the WebSocket delivers a new sender key, and the waiting message decrypts', async () => {
    const { bob1 } = devices as Record<string, Device>;
    bob1!.socket = await LiveSocket.open(server, bob1!, true);
    const carol: Person = { id: '', username: 'carol' };
    const carolAuth = await signIn('carol1', carol, { invite_code: inviteCode });
    await carolAuth.authed(`/api/invites/${communityInvite}/join`, { method: 'POST' });
    const carol1 = await startDevice('carol1', carol, carolAuth);

    await carol1.e2e.messenger.sendChannelMessage(channelId, { text: 'carol here' });
    const message = (await history(bob1!, channelId)).at(-1)!;
    // bob1 never syncs its inbox over REST here: the key can only come through the socket.
    await expect.poll(async () => bob1!.socket!.events.some((e) => e.type === 'device.message'), POLL).toBe(true);
    await bob1!.socket!.settled();
    expect(show(await bob1!.e2e.messenger.decryptMessage(message))).toBe('carol here');
    // handleEvent acked it: nothing is left in bob1's inbox.
    const inbox = await bob1!.e2e.inbox.list(bob1!.e2e.messenger.address.deviceId);
    expect(inbox.messages).toEqual([]);
  });

  it('a late joiner reads only what was sent after joining', async () => {
    const { carol1, alice1 } = devices as Record<string, Device>;
    await alice1!.e2e.messenger.sendChannelMessage(channelId, { text: 'welcome, carol' });
    expect(await readAll(carol1!, channelId)).toEqual([
      // alice1's chain reached carol at a later iteration: its earlier message stays unreadable.
      '!no_sender_key',
      // bob2 has not sent since carol joined, so carol has no key of his at all (yet).
      '…waiting',
      'carol here',
      'welcome, carol',
    ]);
  });

  it('a tampered ciphertext stored on the server fails with a reason', async () => {
    const { alice1, bob2 } = devices as Record<string, Device>;
    const input = await alice1!.e2e.messenger.encryptChannelMessage(channelId, { text: 'do not change me' });
    const bytes = Buffer.from(input.ciphertext, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    const { channel_id, ...body } = input;
    await alice1!.api.authed(`/api/channels/${channel_id}/messages`, {
      method: 'POST',
      body: { ...body, ciphertext: bytes.toString('base64') },
      response: MessageAck,
    });
    expect((await readAll(bob2!, channelId)).at(-1)).toBe('!bad_signature');
  });

  it('an identity change blocks sending to that person until accepted', async () => {
    const { alice1 } = devices as Record<string, Device>;
    alice1!.socket = await LiveSocket.open(server, alice1!, false);
    const changed: string[] = [];
    alice1!.e2e.messenger.on('identityChanged', (u) => changed.push(u));

    // bob starts over: a new identity on a new device; the server removes his old devices.
    const bob3 = await startDevice('bob3', bob, await signIn('bob3', bob), { resetIdentity: true });
    await expect.poll(() => changed, POLL).toEqual([bob.id]);
    const err = await alice1!.e2e.messenger
      .sendDirectMessage(dmId, { text: 'are you there?' })
      .catch((e: unknown) => e);
    expect(isE2EError(err, 'untrusted_identity') && err.userIds).toEqual([bob.id]);
    expect((await alice1!.e2e.messenger.trust(bob.id))?.state).toBe('changed');

    await alice1!.e2e.messenger.accept(bob.id);
    await alice1!.e2e.messenger.sendDirectMessage(dmId, { text: 'welcome back, bob' });
    expect((await readAll(bob3, dmId)).at(-1)).toBe('welcome back, bob');
  });

  it('a member removed from the community cannot read what is sent after the rotation', async () => {
    const { alice1, carol1, bob3 } = devices as Record<string, Device>;
    await alice1!.e2e.messenger.sendChannelMessage(channelId, { text: 'bob can read this' });
    expect((await readAll(bob3!, channelId)).at(-1)).toBe('bob can read this');
    const chainBefore = (await history(alice1!, channelId)).at(-1)!.encryption.distribution_id;

    await alice1!.api.authed(`/api/communities/${communityId}/members/${bob.id}`, { method: 'DELETE' });
    await alice1!.e2e.messenger.sendChannelMessage(channelId, { text: 'after bob left' });
    const last = (await history(alice1!, channelId)).at(-1)!;
    expect(last.encryption.distribution_id).not.toBe(chainBefore);
    expect((await readAll(carol1!, channelId)).at(-1)).toBe('after bob left');
    // Nothing new reached bob's device inbox, and the ciphertext (had he kept it) stays closed.
    const inbox = await bob3!.e2e.inbox.list(bob3!.e2e.messenger.address.deviceId);
    expect(inbox.messages).toEqual([]);
    expect(show(await bob3!.e2e.messenger.decryptMessage(last))).toBe('…waiting');
  });
});

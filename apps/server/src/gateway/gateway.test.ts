import { CLOSE_CODES } from '@chatalot/protocol';
import { ACCESS_TOKEN_TTL_SECS, AccessTokens } from '../auth/tokens.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import { ciphertext, SENDER_KEY, TestSocket } from '../test-support/ws-client.js';

const nonce = (tag: string) => `nonce-${tag}-${Math.random().toString(36).slice(2, 10)}`;

describe.each(DIALECTS)('WebSocket gateway on %s', (dialect) => {
  let t: TestApp;
  let url: string;
  let world: SpacesWorld;
  const sockets: TestSocket[] = [];

  const connect = async (user: keyof SpacesWorld['users'], resume?: { channel_id: string; seq: number }[]) => {
    const socket = await TestSocket.signedIn(url, world.users[user].auth.authorization, resume);
    sockets.push(socket);
    return socket;
  };
  const send = (socket: TestSocket, channelId: string, text: string, n = nonce(text)) =>
    socket.request({
      op: 'message.send',
      channel_id: channelId,
      nonce: n,
      ciphertext: ciphertext(text),
      encryption: SENDER_KEY,
    });

  beforeAll(async () => {
    t = await createTestApp(dialect);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    url = `ws://127.0.0.1:${address.port}/ws`;
    world = await buildSpacesWorld(t, 'gw');
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t.close();
  });

  it('signs in with the first frame and says ready with each channel’s latest seq', async () => {
    const socket = await TestSocket.open(url);
    sockets.push(socket);
    socket.send({ op: 'auth', token: world.users.member.auth.authorization.slice('Bearer '.length) });
    const ready = await socket.next((f) => f.type === 'ready');
    expect(ready.user_id).toBe(world.users.member.id);
    const channels = (ready.channels as { channel_id: string }[]).map((c) => c.channel_id);
    expect(channels).toContain(world.a.publicChannel);
    expect(channels).toContain(world.dm);
    expect(channels).not.toContain(world.a.privateChannel);
    expect(channels).not.toContain(world.b.publicChannel);
  });

  it('refuses ops before auth and closes on a bad token', async () => {
    const socket = await TestSocket.open(url);
    sockets.push(socket);
    const refused = await socket.request({ op: 'typing', channel_id: world.a.publicChannel });
    expect(refused).toMatchObject({ type: 'error', code: 'unauthorized' });
    socket.send({ op: 'auth', token: 'not-a-token' });
    expect((await socket.closed).code).toBe(CLOSE_CODES.unauthorized);
  });

  it('refuses a browser from another origin', async () => {
    await expect(TestSocket.open(url, { origin: 'https://evil.example' })).rejects.toThrow(/403/);
  });

  it('acks after commit and delivers to the other members and the sender’s other sockets', async () => {
    const alice = await connect('member');
    const aliceOther = await connect('member');
    const bob = await connect('groupMember');
    const ack = await send(alice, world.a.publicChannel, 'hello');
    expect(ack).toMatchObject({ type: 'ack', op: 'message.send' });
    const data = ack.data as { id: string; seq: number };
    for (const socket of [bob, aliceOther]) {
      const event = await socket.next((f) => f.type === 'message.created' && f.channel_id === world.a.publicChannel);
      expect(event.seq).toBe(data.seq);
      expect((event.message as { id: string; ciphertext: string }).id).toBe(data.id);
      expect((event.message as { ciphertext: string }).ciphertext).toBe(ciphertext('hello'));
    }
  });

  it('never makes a second message from the same nonce', async () => {
    const alice = await connect('member');
    const n = nonce('same');
    const acks = await Promise.all(Array.from({ length: 5 }, () => send(alice, world.a.publicChannel, 'once', n)));
    const ids = new Set(acks.map((a) => (a.data as { id: string }).id));
    expect(ids.size).toBe(1);
    const rows = await t.db.database.db.selectFrom('messages').select('id').where('nonce', '=', n).execute();
    expect(rows).toHaveLength(1);
  });

  it('delivers each channel in sequence order, gap-free, under concurrent senders', async () => {
    const watcher = await connect('moderator');
    const senders = await Promise.all([connect('member'), connect('groupMember'), connect('admin')]);
    const start = (
      await t.db.database.db
        .selectFrom('channels')
        .select('last_seq')
        .where('id', '=', world.a.publicChannel)
        .executeTakeFirstOrThrow()
    ).last_seq;
    await Promise.all(
      senders.map(async (s, i) => {
        for (let k = 0; k < 20; k++) await send(s, world.a.publicChannel, `s${i}-${k}`);
      }),
    );
    const last = Number(start) + 60;
    await watcher.next((f) => f.type === 'message.created' && f.seq === last);
    const seqs = watcher
      .messages(world.a.publicChannel)
      .map((f) => f.seq as number)
      .filter((s) => s > Number(start));
    expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => Number(start) + 1 + i));
  });

  it('keeps the socket usable after bad frames, each answered with a stable code', async () => {
    const socket = await connect('member');
    socket.send('{not json');
    expect(await socket.next((f) => f.type === 'error')).toMatchObject({ code: 'invalid_json' });
    socket.send({ op: 'no.such.op', ref: 'x1' });
    expect(await socket.next((f) => f.type === 'error')).toMatchObject({ code: 'unknown_op', ref: 'x1' });
    socket.send({ op: 'message.send', ref: 'x2', channel_id: world.a.publicChannel, nonce: 'short' });
    expect(await socket.next((f) => f.type === 'error')).toMatchObject({ code: 'validation_error', ref: 'x2' });
    socket.send('['.repeat(100) + ']'.repeat(100));
    expect(await socket.next((f) => f.type === 'error')).toMatchObject({ code: 'invalid_json' });
    const ok = await send(socket, world.a.publicChannel, 'still works');
    expect(ok.type).toBe('ack');
  });

  it('refuses sending where the user is not a member, and on another community’s channel', async () => {
    const socket = await connect('member');
    for (const channel of [world.a.privateChannel, world.b.publicChannel]) {
      const answer = await send(socket, channel, 'nope');
      expect(answer).toMatchObject({ type: 'error', code: 'not_found' });
    }
  });

  it('replays what a reconnecting client missed, in order and once', async () => {
    const channel = world.a.publicChannel;
    const alice = await connect('member');
    const bob = await connect('groupMember');
    await send(bob, channel, 'before');
    const seen = (await alice.next((f) => f.type === 'message.created' && f.channel_id === channel)).seq as number;
    const seenNow = Math.max(seen, ...alice.messages(channel).map((f) => f.seq as number));
    alice.close();
    await alice.closed;
    const missed: number[] = [];
    for (let i = 0; i < 25; i++) missed.push(((await send(bob, channel, `missed ${i}`)).data as { seq: number }).seq);
    const back = await connect('member', [{ channel_id: channel, seq: seenNow }]);
    await back.next((f) => f.type === 'resumed');
    const got = back.messages(channel).map((f) => f.seq as number);
    expect(got.filter((s) => s > seenNow)).toEqual(
      Array.from({ length: missed.at(-1)! - seenNow }, (_, i) => seenNow + 1 + i),
    );
  });

  it('stops delivering to a kicked member at once', async () => {
    const local = await buildSpacesWorld(t, 'kick');
    const target = await TestSocket.signedIn(url, local.users.target.auth.authorization);
    sockets.push(target);
    const mod = await TestSocket.signedIn(url, local.users.moderator.auth.authorization);
    sockets.push(mod);
    const kick = await t.app.inject({
      method: 'DELETE',
      url: `/api/communities/${local.a.community}/members/${local.users.target.id}`,
      headers: local.users.moderator.auth,
    });
    expect(kick.statusCode).toBeLessThan(300);
    await target.next((f) => f.type === 'member.kicked');
    // The access refresh follows the event; once a later message reaches the moderator, the
    // target must not have it.
    await new Promise((r) => setTimeout(r, 200));
    const ack = await send(mod, local.a.publicChannel, 'after the kick');
    const seq = (ack.data as { seq: number }).seq;
    await mod.next((f) => f.type === 'message.created' && f.seq === seq);
    expect(target.messages(local.a.publicChannel).some((f) => f.seq === seq)).toBe(false);
    expect(await send(target, local.a.publicChannel, 'still here?')).toMatchObject({ type: 'error' });
  });

  it('closes the sockets of a signed-out session', async () => {
    const local = await buildSpacesWorld(t, 'revoke');
    const socket = await TestSocket.signedIn(url, local.users.member.auth.authorization);
    sockets.push(socket);
    const out = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: local.users.member.auth });
    expect(out.statusCode).toBeLessThan(300);
    expect((await socket.closed).code).toBe(CLOSE_CODES.sessionRevoked);
  });

  it('starts delivering a community to its creator’s open sockets at once', async () => {
    const local = await buildSpacesWorld(t, 'creator');
    const creator = local.users.instanceAdmin;
    const watching = await TestSocket.signedIn(url, creator.auth.authorization);
    sockets.push(watching);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/communities',
      headers: creator.auth,
      payload: { name: 'Fresh' },
    });
    expect(created.statusCode).toBe(201);
    await watching.next((f) => f.type === 'member.joined' && f.user_id === creator.id);
    const added = await watching.next((f) => f.type === 'channels.added');
    const communityId = (created.json() as { id: string }).id;
    const general = await t.db.database.db
      .selectFrom('channels as c')
      .innerJoin('groups as g', 'g.id', 'c.group_id')
      .select('c.id')
      .where('g.community_id', '=', communityId)
      .executeTakeFirstOrThrow();
    expect(added.channels).toEqual([{ channel_id: general.id, last_seq: 0 }]);
    const other = await TestSocket.signedIn(url, creator.auth.authorization);
    sockets.push(other);
    const ack = await send(other, general.id, 'first words');
    expect(ack.type).toBe('ack');
    await watching.next((f) => f.type === 'message.created' && f.channel_id === general.id);
  });

  it('closes every socket of a suspended user, and the user cannot sign back in', async () => {
    const local = await buildSpacesWorld(t, 'suspend');
    const first = await TestSocket.signedIn(url, local.users.member.auth.authorization);
    const second = await TestSocket.signedIn(url, local.users.member.auth.authorization);
    sockets.push(first, second);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/admin/users/${local.users.member.id}/suspend`,
      headers: local.users.instanceAdmin.auth,
      payload: { reason: 'spam' },
    });
    expect(res.statusCode).toBe(204);
    for (const socket of [first, second]) expect((await socket.closed).code).toBe(CLOSE_CODES.sessionRevoked);
    const again = await TestSocket.open(url);
    sockets.push(again);
    again.send({ op: 'auth', token: local.users.member.auth.authorization.slice('Bearer '.length) });
    expect((await again.closed).code).toBe(CLOSE_CODES.sessionRevoked);
  });

  it('closes a socket whose access token expires, unless auth.refresh renewed it', async () => {
    const local = await buildSpacesWorld(t, 'expiry');
    const tokens = new AccessTokens(
      { privateKey: t.secrets.jwtPrivateKey, publicKey: t.secrets.jwtPublicKey },
      t.config.publicUrl ?? 'chatalot',
    );
    const claims = decodeClaims(local.users.member.auth.authorization);
    // Issued so that it has about two seconds left.
    const almostExpired = () => tokens.issue(claims, Date.now() - (ACCESS_TOKEN_TTL_SECS - 2) * 1000);
    const lapsing = await TestSocket.signedIn(url, `Bearer ${await almostExpired()}`);
    const renewed = await TestSocket.signedIn(url, `Bearer ${await almostExpired()}`);
    sockets.push(lapsing, renewed);
    const refresh = await renewed.request({ op: 'auth.refresh', token: await tokens.issue(claims) });
    expect(refresh.type).toBe('ack');
    expect((await lapsing.closed).code).toBe(CLOSE_CODES.tokenExpired);
    renewed.send({ op: 'ping', ref: 'still-there' });
    await renewed.next((f) => f.type === 'pong' && f.ref === 'still-there');
    expect(renewed.ws.readyState).toBe(renewed.ws.OPEN);
  });

  it('allows at most the configured number of sockets per user', async () => {
    const local = await buildSpacesWorld(t, 'many');
    const open: TestSocket[] = [];
    for (let i = 0; i < t.config.maxSocketsPerUser; i++) {
      open.push(await TestSocket.signedIn(url, local.users.member.auth.authorization));
    }
    sockets.push(...open);
    const extra = await TestSocket.open(url);
    sockets.push(extra);
    extra.send({ op: 'auth', token: local.users.member.auth.authorization.slice('Bearer '.length) });
    expect((await extra.closed).code).toBe(CLOSE_CODES.tooManySockets);
    open[0]!.close();
    await open[0]!.closed;
    await new Promise((r) => setTimeout(r, 100));
    sockets.push(await TestSocket.signedIn(url, local.users.member.auth.authorization));
  });

  it('shares typing with the channel, at most once per 3 s', async () => {
    const local = await buildSpacesWorld(t, 'typing');
    const alice = await TestSocket.signedIn(url, local.users.member.auth.authorization);
    const bob = await TestSocket.signedIn(url, local.users.groupMember.auth.authorization);
    sockets.push(alice, bob);
    const channel = local.a.publicChannel;
    await alice.request({ op: 'typing', channel_id: channel });
    await alice.request({ op: 'typing', channel_id: channel });
    const typing = await bob.next((f) => f.type === 'typing' && f.user_id === local.users.member.id);
    expect(typing.expires_in_ms).toBe(10_000);
    const ack = await send(alice, channel, 'marker');
    await bob.next((f) => f.type === 'message.created' && f.seq === (ack.data as { seq: number }).seq);
    expect(bob.frames.filter((f) => f.type === 'typing' && f.user_id === local.users.member.id)).toHaveLength(1);
  });

  it('shows presence to people sharing a community, and invisible as offline', async () => {
    const local = await buildSpacesWorld(t, 'presence');
    const watcher = await TestSocket.signedIn(url, local.users.groupMember.auth.authorization);
    const outsider = await TestSocket.signedIn(url, local.users.outsider.auth.authorization);
    sockets.push(watcher, outsider);
    const alice = await TestSocket.signedIn(url, local.users.member.auth.authorization);
    sockets.push(alice);
    const id = local.users.member.id;
    expect(await watcher.next((f) => f.type === 'presence' && f.user_id === id)).toMatchObject({ status: 'online' });
    // The member list and the profile say the same, for someone who opens them now.
    const listed = async () => {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/communities/${local.a.community}/members`,
        headers: local.users.groupMember.auth,
      });
      return (res.json() as { members: { user_id: string; presence: string }[] }).members.find((m) => m.user_id === id)
        ?.presence;
    };
    const profile = async () =>
      (await t.app.inject({ method: 'GET', url: `/api/users/${id}`, headers: local.users.groupMember.auth })).json()
        .presence as string;
    expect(await listed()).toBe('online');
    expect(await profile()).toBe('online');
    await alice.request({ op: 'presence.set', status: 'invisible' });
    expect(await watcher.next((f) => f.type === 'presence' && f.user_id === id)).toMatchObject({ status: 'offline' });
    expect(await listed()).toBe('offline');
    expect(await profile()).toBe('offline');
    await alice.request({ op: 'presence.set', status: 'dnd' });
    expect(await watcher.next((f) => f.type === 'presence' && f.user_id === id)).toMatchObject({ status: 'dnd' });
    // Changed in the profile over REST, it is announced the same way.
    const patched = await t.app.inject({
      method: 'PATCH',
      url: '/api/account/profile',
      headers: local.users.member.auth,
      payload: { presence: 'idle' },
    });
    expect(patched.statusCode).toBe(200);
    expect(await watcher.next((f) => f.type === 'presence' && f.user_id === id)).toMatchObject({ status: 'idle' });
    alice.close();
    expect(await watcher.next((f) => f.type === 'presence' && f.user_id === id)).toMatchObject({ status: 'offline' });
    expect(outsider.frames.some((f) => f.type === 'presence' && f.user_id === id)).toBe(false);
  });
});

/** The user and session ids inside a test user's bearer token (no verification needed here). */
function decodeClaims(bearer: string): { userId: string; sessionId: string } {
  const payload = JSON.parse(Buffer.from(bearer.split('.')[1]!, 'base64url').toString()) as {
    sub: string;
    sid: string;
  };
  return { userId: payload.sub, sessionId: payload.sid };
}

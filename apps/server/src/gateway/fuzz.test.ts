import { ClientFrame, type ClientOp, ERROR_CODES, LIMITS } from '@chatalot/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listen, Pacer, sendMessages, sleep } from '../test-support/gateway-load.js';
import { buildSpacesWorld, type SpacesWorld } from '../test-support/spaces-world.js';
import { createTestApp, type TestApp } from '../test-support/test-app.js';
import { DIALECTS } from '../test-support/test-db.js';
import type { TestUser } from '../test-support/users.js';
import { ciphertext, type Frame, TestSocket } from '../test-support/ws-client.js';
import { Registry } from './registry.js';
import { MemoryGatewayState } from './state/memory-gateway-state.js';

/**
 * Fuzzing the gateway over real sockets: random text and bytes, random JSON, and valid frames
 * of every op put through schema mutations, on signed-in sockets and on sockets that never
 * authenticate. Every answer must be a well-formed `ack`, `error` (a known code, and no
 * `internal_error` but for one known PostgreSQL bug, see `round`) or `pong`; each tagged frame
 * is answered at most once (exactly once on a socket that is still open); sockets close only
 * for the frames that must close them; the server keeps serving and forgets closed sockets.
 *
 * The seed is random on each run and printed on failure: FUZZ_SEED=<seed> generates the same
 * frames again (the sockets' timing still varies).
 */

// Sizes: enough rounds for ≥ 10,000 frames per dialect. Frames are paced per socket just under
// the gateway's token bucket (burst 30, 10/s), so nearly all of them reach the parser.
const ROUNDS = 12;
const FRAMES_PER_ROUND = 850;
const SIGNED_IN_USERS = ['member', 'groupMember', 'moderator', 'admin', 'outsider', 'banned'] as const;
const SOCKETS_PER_USER = 5;
const UNAUTHENTICATED_SOCKETS = 100;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() ^ (Math.random() * 2 ** 31);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Placeholders filled in when a frame is sent: its unique ref, the socket's token, padding. */
const TAG = '@@TAG@@';
const TOKEN = '@@TOKEN@@';
const PAD = '@@PAD@@';
/** A JSON token written into the text as is (numbers JSON.stringify cannot produce, deep nesting). */
const raw = (token: string) => `@@RAW:${token}@@`;
const RAW_PATTERN = /"@@RAW:([^"]*)@@"/g;

const OPS: readonly string[] = ClientFrame.options.map((o) => o.shape.op.value);
const KNOWN_CODES = new Set<string>(ERROR_CODES);

interface FuzzFrame {
  kind: 'mutated' | 'valid' | 'string' | 'json' | 'bytes' | 'binary-json' | 'sized' | 'bad-utf8';
  /** Text with placeholders (text and binary-json frames), or raw bytes. */
  text?: string;
  bytes?: Uint8Array;
  /** Sized frames: the text is padded to exactly this many bytes. */
  size?: number;
}

interface Ids {
  channels: string[];
  messages: string[];
  users: string[];
}

// ---------------------------------------------------------------------------------------------
// Valid frames of every op (with placeholders), then mutations of them.
// ---------------------------------------------------------------------------------------------

function templates(ids: Ids): Record<ClientOp, fc.Arbitrary<Record<string, Json>>> {
  const channelId = fc.constantFrom(...ids.channels);
  const messageId = fc.constantFrom(...ids.messages);
  const userId = fc.constantFrom(...ids.users);
  const nonce = fc.stringMatching(/^[a-z0-9-]{8,64}$/);
  const body = fc.uint8Array({ minLength: 1, maxLength: 96 }).map((b) => Buffer.from(b).toString('base64'));
  const cursor = fc.record({ channel_id: channelId, seq: fc.nat(40) });
  const deviceId = fc.integer({ min: 1, max: 4 });
  /** One op's frame: a ref on nine frames in ten, the optional fields sometimes. */
  const frame = (op: string, fields: Record<string, fc.Arbitrary<unknown>>, optional: string[] = []) =>
    fc
      .tuple(fc.nat(9), fc.record(fields, { requiredKeys: Object.keys(fields).filter((k) => !optional.includes(k)) }))
      .map(([withRef, f]) => ({ op, ...(withRef > 0 ? { ref: TAG } : {}), ...(f as Record<string, Json>) }));
  return {
    auth: frame(
      'auth',
      { token: fc.constant(TOKEN), resume: fc.array(cursor, { maxLength: 3 }), device_id: deviceId },
      ['resume', 'device_id'],
    ),
    'auth.refresh': frame('auth.refresh', { token: fc.constant(TOKEN) }),
    resume: frame('resume', { channels: fc.array(cursor, { maxLength: 4 }) }),
    'message.send': frame(
      'message.send',
      {
        channel_id: channelId,
        nonce,
        ciphertext: body,
        encryption: fc.record(
          {
            scheme: fc.constantFrom('sender_key', 'pairwise'),
            distribution_id: fc.stringMatching(/^[a-z0-9]{1,16}$/),
            device_id: deviceId,
          },
          { requiredKeys: ['scheme'] },
        ),
        reply_to: messageId,
        forwarded_from: messageId,
        mentions: fc.array(userId, { maxLength: 3 }),
        mention_everyone: fc.boolean(),
      },
      ['reply_to', 'forwarded_from', 'mentions', 'mention_everyone'],
    ),
    'message.edit': frame('message.edit', { message_id: messageId, ciphertext: body }),
    'message.delete': frame('message.delete', { message_id: messageId }),
    'reaction.add': frame('reaction.add', {
      message_id: messageId,
      emoji: fc.constantFrom('👍', '🎉', '❤️', ':party:'),
    }),
    'reaction.remove': frame('reaction.remove', { message_id: messageId, emoji: fc.constantFrom('👍', '🎉') }),
    typing: frame('typing', { channel_id: channelId }),
    'presence.set': frame('presence.set', { status: fc.constantFrom('online', 'idle', 'dnd', 'invisible') }),
    read: frame('read', { channel_id: channelId, seq: fc.nat(40) }),
    'device.send': frame('device.send', {
      sender_device_id: deviceId,
      messages: fc.array(fc.record({ user_id: userId, device_id: deviceId, ciphertext: body }), {
        minLength: 1,
        maxLength: 3,
      }),
    }),
    'device.ack': frame('device.ack', {
      device_id: deviceId,
      ids: fc.array(fc.uuid(), { minLength: 1, maxLength: 3 }),
    }),
    ping: frame('ping', {}),
  };
}

function allPaths(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => allPaths(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) allPaths(value[key]!, [...prefix, key], out);
  }
  return out;
}

function parentOf(root: Json, path: Path): Json {
  let node = root;
  for (const key of path.slice(0, -1)) node = (node as Record<string | number, Json>)[key]!;
  return node;
}

/**
 * Sets an own property, even `__proto__` (a plain assignment would change the prototype), to a
 * copy of the value (generated values can be shared: inserting one into itself makes a cycle).
 */
function define(target: Json, key: string | number, value: Json): void {
  const copy = JSON.parse(JSON.stringify(value)) as Json;
  if (Array.isArray(target) && typeof key === 'number') target[key] = copy;
  else Object.defineProperty(target, key, { value: copy, enumerable: true, writable: true, configurable: true });
}

type Mutation = (frame: Record<string, Json>) => void;

/** Picks one of the frame's fields (at any depth, never the frame itself). */
const pick = (frame: Json, n: number, containers = false): Path | null => {
  const paths = allPaths(frame).filter((p) => {
    if (!containers) return p.length > 0;
    const v = p.length === 0 ? frame : (parentOf(frame, p) as Record<string | number, Json>)[p.at(-1)!];
    return v !== null && typeof v === 'object';
  });
  return paths.length === 0 ? null : paths[n % paths.length]!;
};
const setAt = (frame: Json, path: Path | null, value: Json) => {
  if (path && path.length > 0) define(parentOf(frame, path), path.at(-1)!, value);
};

const wrongValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, { maxKeys: 3 }),
) as fc.Arbitrary<Json>;

const edgeNumber: fc.Arbitrary<Json> = fc.constantFrom<Json>(
  'NaN',
  'Infinity',
  '-Infinity',
  '-1',
  '1',
  '',
  -1,
  -0,
  0,
  0.5,
  1.5,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  1e21,
  raw('1e999'),
  raw('-1e999'),
  raw('1E+400'),
  raw('-0'),
  raw('1.0'),
  raw('0.1e-400'),
  raw('123456789012345678901234567890'),
);

/** Strings near and over the limits: ids and refs (64), tokens (4096), ciphertext (64 KiB as base64), the frame (256 KiB). */
const hugeString: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(1, 63, 64, 65, 128, 4095, 4096, 4097, 87_380, 87_384, 87_385, 87_388, 131_072, 262_000, 262_200),
    fc.constantFrom('A', 'a', 'é', '🙂', '\u0000', '"', '\\', '/'),
  )
  .map(([length, char]) => char.repeat(length));

const weirdKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'then',
  'op',
  'ref',
  '',
);

const weirdOp = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'MESSAGE.SEND',
    'message.send ',
    ' ping',
    'message',
    'message.',
    'auth\u0000',
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'then',
    'ｐｉｎｇ',
    'x'.repeat(100_000),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

const pollution = fc.constantFrom<[string, Json]>(
  ['__proto__', { polluted: 'fuzz', op: 'ping', ref: 'proto', isAdmin: true }],
  ['__proto__', { toString: 'oops', valueOf: 1, hasOwnProperty: null }],
  ['__proto__', null],
  ['__proto__', []],
  ['constructor', { prototype: { polluted: 'fuzz', isAdmin: true } }],
  ['constructor', 'fuzz'],
  ['prototype', { polluted: 'fuzz' }],
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Drop a field (op, ref, a required field, a nested one).
  fc.nat().map((n) => (f: Record<string, Json>) => {
    const path = pick(f, n);
    if (!path) return;
    const parent = parentOf(f, path) as Record<string | number, Json>;
    if (Array.isArray(parent)) parent.splice(path.at(-1) as number, 1);
    else delete parent[path.at(-1)!];
  }),
  // A value of the wrong type.
  fc.tuple(fc.nat(), wrongValue).map(
    ([n, v]) =>
      (f: Record<string, Json>) =>
        setAt(f, pick(f, n), v),
  ),
  // Huge strings.
  fc.tuple(fc.nat(), hugeString).map(
    ([n, s]) =>
      (f: Record<string, Json>) =>
        setAt(f, pick(f, n), s),
  ),
  // Numbers that are not what they look like.
  fc.tuple(fc.nat(), edgeNumber).map(
    ([n, v]) =>
      (f: Record<string, Json>) =>
        setAt(f, pick(f, n), v),
  ),
  // Deep nesting, around the 32 levels the gateway allows and far beyond.
  fc
    .tuple(fc.nat(), fc.constantFrom(2, 29, 30, 31, 32, 33, 64, 1000, 100_000), fc.boolean())
    .map(([n, depth, arrays]) => (f: Record<string, Json>) => {
      const [open, close] = arrays ? ['[', ']'] : ['{"a":', '}'];
      setAt(f, pick(f, n), raw(open.repeat(depth) + (arrays ? '' : '1') + close.repeat(depth)));
    }),
  // Unknown ops.
  weirdOp.map((op) => (f: Record<string, Json>) => define(f, 'op', op)),
  // Extra fields, anywhere.
  fc
    .tuple(fc.nat(), fc.oneof(weirdKey, fc.string({ maxLength: 10 })), fc.jsonValue({ maxDepth: 2 }))
    .map(([n, key, value]) => (f: Record<string, Json>) => {
      const path = pick(f, n, true) ?? [];
      const target = path.length === 0 ? f : (parentOf(f, path) as Record<string | number, Json>)[path.at(-1)!]!;
      if (!Array.isArray(target)) define(target, key, value as Json);
    }),
  // Prototype pollution attempts, at the top or in a nested object.
  fc.tuple(fc.nat(), pollution).map(([n, [key, value]]) => (f: Record<string, Json>) => {
    const path = pick(f, n, true) ?? [];
    const target = path.length === 0 ? f : (parentOf(f, path) as Record<string | number, Json>)[path.at(-1)!]!;
    if (!Array.isArray(target)) define(target, key, value);
  }),
  // Refs that are not quite refs.
  fc
    .constantFrom<Json>(
      '',
      'r'.repeat(64),
      'r'.repeat(65),
      7,
      null,
      true,
      {},
      [],
      '\u0000',
      '🙂'.repeat(32),
      '🙂'.repeat(33),
    )
    .map((ref) => (f: Record<string, Json>) => define(f, 'ref', ref)),
);

/** Mutations of the serialized text: truncation, a replaced character, a duplicated key. */
const textMutation: fc.Arbitrary<(text: string) => string> = fc.oneof(
  fc.nat().map((n) => (text: string) => text.slice(0, n % Math.max(1, text.length))),
  fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 2 })).map(([n, c]) => (text: string) => {
    const i = n % Math.max(1, text.length);
    return text.slice(0, i) + c + text.slice(i + 1);
  }),
  fc
    .constantFrom('{"op":"ping",', '{"op":"auth","token":"x",', '{"ref":null,', '{"__proto__":{"op":"ping"},')
    .map((prefix) => (text: string) => (text.startsWith('{') && text.length > 2 ? prefix + text.slice(1) : text)),
);

function serialize(frame: Json): string {
  return JSON.stringify(frame).replace(RAW_PATTERN, (_, token: string) => token);
}

function fuzzFrames(ids: Ids): fc.Arbitrary<FuzzFrame> {
  const byOp = templates(ids);
  const valid = fc.oneof(...OPS.map((op) => byOp[op as ClientOp]));
  const mutated = fc
    .tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.nat(4), textMutation)
    .map(([template, mutations, n, textual]): FuzzFrame => {
      const frame = JSON.parse(JSON.stringify(template)) as Record<string, Json>;
      for (const mutate of mutations) mutate(frame);
      const text = serialize(frame);
      // One in five is also damaged as text.
      return { kind: 'mutated', text: n === 0 ? textual(text) : text };
    });
  const randomText = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 100 }),
    fc.constantFrom('', ' ', 'null', 'true', '0', '[]', '{}', '""', '{"op":null}', '{"op":{}}', '{"op":["ping"]}'),
    fc.nat({ max: 200_000 }).map((n) => '['.repeat(n)),
    fc.nat({ max: 50_000 }).map((n) => '{"a":'.repeat(n)),
  );
  return fc.oneof(
    { weight: 45, arbitrary: mutated },
    { weight: 8, arbitrary: valid.map((f): FuzzFrame => ({ kind: 'valid', text: serialize(f) })) },
    { weight: 15, arbitrary: randomText.map((text): FuzzFrame => ({ kind: 'string', text })) },
    {
      weight: 12,
      arbitrary: fc.jsonValue({ maxDepth: 5 }).map((v): FuzzFrame => ({ kind: 'json', text: JSON.stringify(v) })),
    },
    { weight: 8, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((bytes): FuzzFrame => ({ kind: 'bytes', bytes })) },
    { weight: 4, arbitrary: valid.map((f): FuzzFrame => ({ kind: 'binary-json', text: serialize(f) })) },
    {
      weight: 2,
      // Frames of exactly the size limit, one byte under, and over it (the socket is closed: 1009).
      arbitrary: fc
        .tuple(
          fc.constantFrom(-1, 0, 0, 1, 5000),
          fc.constantFrom<Json>(
            { op: 'ping', ref: TAG, pad: PAD },
            { op: 'message.send', ref: TAG, channel_id: ids.channels[0]!, nonce: 'sized-frame', ciphertext: PAD },
          ),
        )
        .map(([delta, frame]): FuzzFrame => ({
          kind: 'sized',
          text: serialize(frame),
          size: LIMITS.wsFrameBytes + delta,
        })),
    },
    {
      weight: 1,
      // Text frames that are not UTF-8 (the socket is closed: 1007).
      arbitrary: fc
        .uint8Array({ minLength: 1, maxLength: 64 })
        .map((b): FuzzFrame => ({ kind: 'bad-utf8', bytes: Uint8Array.from([...b, 0xff, 0xfe]) })),
    },
  );
}

/**
 * The `ref` the server reads from a frame (as the bytes arrive: a lone surrogate in the text
 * went out as U+FFFD). The gateway echoes it up to 64 UTF-16 units when the frame did not
 * parse, and as the schema took it (up to 64 code points) when it did.
 */
function refOf(data: string | Buffer): string | null {
  try {
    const value = JSON.parse(Buffer.from(data).toString('utf8')) as { ref?: unknown };
    return typeof value.ref === 'string' ? value.ref : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Sockets
// ---------------------------------------------------------------------------------------------

interface SocketLog {
  socket: TestSocket;
  signedIn: boolean;
  pacer: Pacer;
  /** Frames of `socket.frames` already checked. */
  read: number;
  /** Tag → what was sent, for the tags of the current round. */
  pending: Map<string, string>;
  /** Ref → the last frame sent with it, for reports. */
  previews: Map<string, string>;
  tags: Set<string>;
  /** Every ref an answer may carry: what the gateway reads from the frames sent. */
  refs: Set<string>;
  answers: Map<string, number>;
  sent: number;
  answered: number;
  /** A frame that makes the server close the socket (too big, not UTF-8) was sent. */
  fatal: Set<number>;
  settled: boolean;
  closeCode: number | null;
}

interface Slot {
  user: TestUser | null;
  log: SocketLog | null;
}

const preview = (data: string | Buffer) =>
  typeof data === 'string'
    ? `${JSON.stringify(data.slice(0, 240))}${data.length > 240 ? `… (${data.length} chars)` : ''}`
    : `<${data.length} bytes>`;

/** What is wrong with a frame the server sent, if anything. */
function problemWith(frame: Frame, signedIn: boolean): string | null {
  if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string') return 'not an object with a type';
  const refOk = frame.ref === null || typeof frame.ref === 'string';
  switch (frame.type) {
    case 'error':
      if (!refOk) return 'error with a bad ref';
      if (frame.op !== null && typeof frame.op !== 'string') return 'error with a bad op';
      if (typeof frame.code !== 'string' || !KNOWN_CODES.has(frame.code)) return 'error with an unknown code';
      if (frame.code === 'internal_error') return 'internal_error';
      if (typeof frame.message !== 'string' || frame.message.length === 0) return 'error without a message';
      return null;
    case 'ack': {
      if (!signedIn) return 'ack on a socket that never signed in';
      if (!refOk) return 'ack with a bad ref';
      if (typeof frame.op !== 'string' || !OPS.includes(frame.op)) return 'ack of an unknown op';
      if (!('data' in frame) || frame.data === undefined) return 'ack without data';
      if (frame.op === 'message.send') {
        const data = frame.data as Record<string, unknown>;
        if (typeof data.id !== 'string' || typeof data.nonce !== 'string') return 'message ack without id/nonce';
        if (typeof data.seq !== 'number' || !Number.isSafeInteger(data.seq) || data.seq < 1) return 'bad seq in ack';
      }
      return null;
    }
    case 'pong':
      if (!signedIn) return 'pong on a socket that never signed in';
      return refOk ? null : 'pong with a bad ref';
    case 'ready':
    case 'resumed':
      return signedIn ? `a second ${frame.type}` : `${frame.type} without a valid token`;
    default:
      return signedIn ? null : `event ${frame.type} on a socket that never signed in`;
  }
}

const isAnswer = (f: Frame) => f.type === 'ack' || f.type === 'error' || f.type === 'pong';

describe.each(DIALECTS)('Gateway fuzz on %s', (dialect) => {
  let t: TestApp;
  let urls: { wsUrl: string; httpUrl: string };
  let world: SpacesWorld;
  let ids: Ids;
  const state = new MemoryGatewayState();
  const slots: Slot[] = [];
  const logs: SocketLog[] = [];
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  const stats = {
    frames: 0,
    byKind: new Map<string, number>(),
    codes: new Map<string, number>(),
    answers: new Map<string, number>(),
    reopened: 0,
  };
  let registries: Registry[] = [];
  /** What the server logged as errors (the test app logs nothing otherwise). */
  const serverErrors: string[] = [];
  /** `internal_error` answers of the current round. */
  const internalErrors: string[] = [];
  let counter = 0;

  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

  const bogusTokens = () => {
    const real = world.users.member.auth.authorization.slice('Bearer '.length);
    const [header, , signature] = real.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: world.users.admin.id, sid: 'x', exp: 4_000_000_000 })).toString(
      'base64url',
    );
    return [
      'not-a-token',
      `${header}.${forged}.${signature}`,
      `${Buffer.from('{"alg":"none"}').toString('base64url')}.${forged}.`,
      `${real}.${signature}`,
      'a.b.c',
    ];
  };
  let bogus: string[] = [];

  async function open(slot: Slot): Promise<SocketLog> {
    let socket: TestSocket | null = null;
    for (let attempt = 0; !socket; attempt++) {
      try {
        socket = slot.user
          ? await TestSocket.signedIn(urls.wsUrl, slot.user.auth.authorization)
          : await TestSocket.open(urls.wsUrl);
      } catch (err) {
        // A reconnect can race the teardown of the socket it replaces (8 sockets per user).
        if (attempt > 30) throw err;
        await sleep(100);
      }
    }
    const log: SocketLog = {
      socket,
      signedIn: slot.user !== null,
      pacer: new Pacer(),
      read: slot.user ? socket.frames.findIndex((f) => f.type === 'ready') + 1 : 0,
      pending: new Map(),
      previews: new Map(),
      tags: new Set(),
      refs: new Set(),
      answers: new Map(),
      sent: 0,
      answered: 0,
      fatal: new Set(),
      settled: false,
      closeCode: null,
    };
    void socket.closed.then(({ code }) => (log.closeCode = code));
    if (slot.log) stats.reopened++;
    slot.log = log;
    logs.push(log);
    return log;
  }

  const isOpen = (log: SocketLog | null): boolean => log !== null && log.socket.ws.readyState === log.socket.ws.OPEN;

  /** The slot's socket, or a new one when it closed (the old one stays in `logs` to be checked). */
  async function usable(slot: Slot): Promise<SocketLog> {
    if (slot.log && isOpen(slot.log)) return slot.log;
    return open(slot);
  }

  async function sendFrame(slot: Slot, frame: FuzzFrame): Promise<void> {
    let log = await usable(slot);
    await log.pacer.take();
    if (!isOpen(log)) log = await usable(slot);
    const tag = `fz-${++counter}`;
    const token = log.signedIn ? slot.user!.auth.authorization.slice('Bearer '.length) : bogus[counter % bogus.length]!;
    let data: string | Buffer;
    let binary = false;
    let fatal: number | null = null;
    if (frame.bytes) {
      data = Buffer.from(frame.bytes);
      binary = frame.kind === 'bytes';
      if (!binary) fatal = 1007;
    } else {
      let text = frame
        .text!.replaceAll(`"${TAG}"`, JSON.stringify(tag))
        .replaceAll(`"${TOKEN}"`, JSON.stringify(token));
      if (frame.size !== undefined) {
        const pad = frame.size - (Buffer.byteLength(text) - PAD.length);
        text = text.replace(PAD, 'A'.repeat(Math.max(0, pad)));
      }
      data = text;
      binary = frame.kind === 'binary-json';
    }
    if (Buffer.byteLength(data) > LIMITS.wsFrameBytes) fatal = 1009;
    const ref = fatal ? null : refOf(data);
    if (ref !== null) {
      log.refs.add(ref);
      log.previews.set(ref, `${frame.kind} ${binary ? 'binary ' : ''}${preview(data)}`);
      if (ref === tag) {
        log.tags.add(tag);
        log.pending.set(tag, `${frame.kind} ${binary ? 'binary ' : ''}${preview(data)}`);
      }
    }
    if (fatal) log.fatal.add(fatal);
    log.sent++;
    stats.frames++;
    count(stats.byKind, frame.kind);
    log.socket.ws.send(data, { binary });
    // The server closes the socket for this one: the next frame goes to a new socket.
    if (fatal) await open(slot);
  }

  /** A ping behind everything sent: once it is answered, every earlier frame was handled. */
  async function settle(slot: Slot): Promise<void> {
    const log = slot.log;
    if (!log || !isOpen(log)) return;
    await log.pacer.take();
    if (!isOpen(log)) return;
    const ref = `settle-${++counter}`;
    log.refs.add(ref);
    log.sent++;
    log.socket.send({ op: 'ping', ref });
    for (let from = log.read; ;) {
      const frames = log.socket.frames;
      for (; from < frames.length; from++) {
        if (frames[from]!.ref === ref) {
          log.settled = true;
          return;
        }
      }
      if (log.socket.ws.readyState === log.socket.ws.CLOSED) return;
      await sleep(10);
    }
  }

  /** Checks what a socket received since the last check, and the answers to this round's tags. */
  function check(log: SocketLog, problems: string[]): void {
    const frames = log.socket.frames;
    for (; log.read < frames.length; log.read++) {
      const frame = frames[log.read]!;
      const problem = problemWith(frame, log.signedIn);
      const about = typeof frame.ref === 'string' ? log.previews.get(frame.ref) : undefined;
      const report = `${problem}: ${JSON.stringify(frame).slice(0, 300)}${about ? ` ← ${about}` : ''}`;
      if (problem === 'internal_error') internalErrors.push(report);
      else if (problem) problems.push(report);
      if (!isAnswer(frame)) continue;
      log.answered++;
      if (frame.type === 'error') count(stats.codes, frame.code as string);
      else count(stats.answers, `${frame.type} ${(frame.op as string | undefined) ?? ''}`.trim());
      if (typeof frame.ref !== 'string') continue;
      if (!log.refs.has(frame.ref)) problems.push(`answer to a ref never sent: ${JSON.stringify(frame).slice(0, 300)}`);
      const n = (log.answers.get(frame.ref) ?? 0) + 1;
      log.answers.set(frame.ref, n);
      if (n > 1 && log.tags.has(frame.ref)) problems.push(`answered twice: ${about ?? frame.ref}`);
    }
    for (const [tag, sent] of log.pending) {
      if (!log.answers.has(tag) && log.settled) problems.push(`no answer on an open socket: ${sent}`);
    }
    log.pending.clear();
    log.previews.clear();
    if (log.answered > log.sent) problems.push(`${log.answered} answers to ${log.sent} frames`);
    if (log.closeCode !== null) {
      // Closed for a frame too big or not UTF-8, or (never signed in) for a bad auth frame or
      // none in time: nothing else closes a socket here.
      const allowed = new Set<number>([...log.fatal, ...(log.signedIn ? [] : [4001])]);
      if (!allowed.has(log.closeCode))
        problems.push(`socket closed with ${log.closeCode} (signed in: ${log.signedIn})`);
      logs.splice(logs.indexOf(log), 1);
    }
  }

  async function round(frames: FuzzFrame[]): Promise<void> {
    const perSlot = slots.map(() => [] as FuzzFrame[]);
    frames.forEach((frame, i) => perSlot[i % slots.length]!.push(frame));
    for (const log of logs) log.settled = false;
    await Promise.all(
      slots.map(async (slot, i) => {
        for (const frame of perSlot[i]!) await sendFrame(slot, frame);
      }),
    );
    await Promise.all(slots.map((slot) => settle(slot)));
    const problems: string[] = [];
    for (const log of [...logs]) check(log, problems);
    // Anything the server logged as an error, besides sockets it closed for a frame too big or
    // not UTF-8, is a bug; so is any internal_error answer. (A U+0000 in a string, which
    // PostgreSQL cannot store, is answered as bad_request.)
    const logged = serverErrors.splice(0).filter((e) => !/Max payload size exceeded|invalid UTF-8 sequence/.test(e));
    for (const e of logged) problems.push(`server logged: ${e}`);
    problems.push(...internalErrors.splice(0));
    // The app still answers over HTTP, nothing was polluted, no promise was dropped.
    const health = await fetch(`${urls.httpUrl}/api/health`);
    if (health.status !== 200) problems.push(`GET /api/health answered ${health.status}`);
    for (const key of ['polluted', 'isAdmin']) {
      if (key in Object.prototype) problems.push(`Object.prototype.${key} was polluted`);
    }
    if (rejections.length > 0) problems.push(`unhandled rejections: ${rejections.map(String).join('; ')}`);
    if (problems.length > 0) throw new Error(`${problems.length} problems:\n${problems.slice(0, 15).join('\n')}`);
  }

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    const add = vi.spyOn(Registry.prototype, 'add');
    t = await createTestApp(dialect, { deps: { gatewayState: state } });
    urls = await listen(t);
    vi.spyOn(t.app.log, 'error').mockImplementation((...args: unknown[]) => {
      const [first] = args as [{ err?: Error } | string];
      const err = typeof first === 'object' ? first.err : undefined;
      serverErrors.push(`${String(args.at(-1))}: ${err?.stack?.split('\n').slice(0, 3).join(' ') ?? String(first)}`);
    });
    world = await buildSpacesWorld(t, 'fuzz');
    bogus = bogusTokens();
    // Messages of the fuzzing users, for edits, deletes and reactions to aim at.
    const messages: string[] = [world.a.publicMessage, world.a.privateMessage, world.b.publicMessage, world.dmMessage];
    for (const [user, channel] of [
      ['member', world.a.publicChannel],
      ['groupMember', world.a.privateChannel],
      ['moderator', world.a.publicChannel],
      ['member', world.dm],
    ] as const) {
      const socket = await TestSocket.signedIn(urls.wsUrl, world.users[user].auth.authorization);
      const [sent] = await sendMessages([socket], channel, 1, { tag: `seed-${user}`, body: () => ciphertext('x') });
      messages.push(sent!.id);
      socket.close();
      await socket.closed;
    }
    ids = {
      channels: [world.a.publicChannel, world.a.privateChannel, world.b.publicChannel, world.dm],
      messages: messages.filter((m): m is string => typeof m === 'string'),
      users: Object.values(world.users).map((u) => u.id),
    };
    for (const user of SIGNED_IN_USERS) {
      for (let i = 0; i < SOCKETS_PER_USER; i++) slots.push({ user: world.users[user], log: null });
    }
    for (let i = 0; i < UNAUTHENTICATED_SOCKETS; i++) slots.push({ user: null, log: null });
    await Promise.all(slots.map((slot) => open(slot)));
    registries = [...new Set(add.mock.contexts as Registry[])];
    add.mockRestore();
  });

  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    for (const slot of slots) slot.log?.socket.ws.terminate();
    await t?.close();
  });

  it('has a valid template for every op of the protocol', () => {
    const byOp = templates({ channels: ['c'], messages: ['m'], users: ['u'] });
    for (const op of OPS) {
      expect(byOp[op as ClientOp], `template for ${op}`).toBeDefined();
      for (const frame of fc.sample(byOp[op as ClientOp], 50)) {
        const parsed = ClientFrame.safeParse(frame);
        expect(parsed.success, `${JSON.stringify(frame)}: ${parsed.error?.message}`).toBe(true);
      }
    }
  });

  it(`answers ${ROUNDS * FRAMES_PER_ROUND} fuzzed frames with well-formed acks and errors, and keeps serving`, async () => {
    const result = await fc.check(
      fc.asyncProperty(fc.array(fuzzFrames(ids), { minLength: FRAMES_PER_ROUND, maxLength: FRAMES_PER_ROUND }), round),
      { numRuns: ROUNDS, seed: SEED, endOnFailure: true },
    );
    if (result.failed) {
      throw new Error(
        `fuzz failed in round ${result.numRuns} (FUZZ_SEED=${result.seed}): ${String(result.errorInstance)}`,
      );
    }
    expect(stats.frames).toBeGreaterThanOrEqual(10_000);
    // Nearly everything reached the parser: the pacing kept rate limiting rare.
    expect(stats.codes.get('rate_limited') ?? 0).toBeLessThan(stats.frames / 20);
    console.log(
      `gateway fuzz on ${dialect}: ${stats.frames} frames (seed ${SEED}) ${JSON.stringify(Object.fromEntries(stats.byKind))}; ` +
        `errors ${JSON.stringify(Object.fromEntries(stats.codes))}; ` +
        `other answers ${JSON.stringify(Object.fromEntries(stats.answers))}; sockets reopened ${stats.reopened}`,
    );
  });

  it('afterwards a normal client still sends and receives, and closed sockets leave nothing behind', async () => {
    const alice = await TestSocket.signedIn(urls.wsUrl, world.users.owner.auth.authorization);
    const bob = await TestSocket.signedIn(urls.wsUrl, world.users.target.auth.authorization);
    const [sent] = await sendMessages([alice], world.a.publicChannel, 1, { tag: 'after-fuzz' });
    const got = await bob.next((f) => f.type === 'message.created' && f.seq === sent!.seq);
    expect((got.message as { id: string }).id).toBe(sent!.id);

    // Close everything: the server must forget every socket, topic and presence entry.
    for (const socket of [alice, bob, ...slots.map((s) => s.log?.socket)]) socket?.ws.terminate();
    await Promise.all([alice, bob, ...slots.map((s) => s.log?.socket)].map((s) => s?.closed));
    for (let i = 0; i < 200 && (t.app.websocketServer.clients.size > 0 || state.size.users > 0); i++) await sleep(25);
    expect(t.app.websocketServer.clients.size).toBe(0);
    expect(state.size.users).toBe(0);
    expect(registries).toHaveLength(1);
    expect(registries[0]!.topicCount()).toBe(0);
    expect(registries[0]!.users.size).toBe(0);
    const health = await fetch(`${urls.httpUrl}/api/health`);
    expect(health.status).toBe(200);
    expect(rejections).toEqual([]);
  });
  it('sockets cut off at any point of the handshake leave nothing behind', async () => {
    // Every fuzz socket is closed by now (previous test); these sign in for real and vanish at
    // a random moment: before the token is checked, while presence and topics are set up, or
    // during the resume replay.
    const users = [world.users.member, world.users.groupMember, world.users.moderator];
    const result = await fc.check(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(users.length - 1), fc.nat(12), fc.boolean(), fc.boolean()), {
          minLength: 8,
          maxLength: 8,
        }),
        async (cuts) => {
          await Promise.all(
            cuts.map(async ([user, delay, resume, gracefully]) => {
              const socket = await TestSocket.open(urls.wsUrl);
              socket.send({
                op: 'auth',
                token: users[user]!.auth.authorization.slice('Bearer '.length),
                ...(resume ? { resume: ids.channels.map((channel_id) => ({ channel_id, seq: 0 })) } : {}),
              });
              if (delay > 0) await sleep(delay);
              if (gracefully) socket.close();
              else socket.ws.terminate();
              await socket.closed;
            }),
          );
        },
      ),
      { numRuns: 25, seed: SEED, endOnFailure: true },
    );
    if (result.failed)
      throw new Error(`handshake cuts failed (FUZZ_SEED=${result.seed}): ${String(result.errorInstance)}`);
    for (let i = 0; i < 200 && (t.app.websocketServer.clients.size > 0 || state.size.users > 0); i++) await sleep(25);
    await sleep(100);
    expect(t.app.websocketServer.clients.size).toBe(0);
    expect({
      presence: state.size.users,
      topics: registries[0]!.topicCount(),
      users: registries[0]!.users.size,
    }).toEqual({ presence: 0, topics: 0, users: 0 });
  });
});

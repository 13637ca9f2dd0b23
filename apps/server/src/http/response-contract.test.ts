import { Message, MessagePage } from '@chatalot/protocol';
import { describe, expect, it } from 'vitest';
import { z, ZodError } from 'zod';
import { compileResponseContract } from './response-contract.js';

const message = (seq: number): z.input<typeof Message> => ({
  id: `m${seq}`,
  channel_id: 'c1',
  seq,
  sender_id: 'u1',
  nonce: 'nonce-123',
  ciphertext: 'AAAA',
  encryption: { scheme: 'sender_key', distribution_id: 'd1', device_id: 1 },
  reply_to: null,
  thread_root: null,
  forwarded_from: null,
  mentions: [],
  mention_everyone: false,
  created_at: 1,
  edited_at: null,
  deleted_at: null,
  expires_at: null,
  reactions: [{ emoji: '👍', user_ids: ['u2'] }],
  pinned: false,
});

/** The property every result must have: the same JSON as zod's parse, or zod's error. */
function expectLikeZod(schema: z.ZodType, value: unknown): void {
  const toContract = compileResponseContract(schema);
  const expected = schema.safeParse(value);
  if (expected.success) expect(JSON.stringify(toContract(value))).toBe(JSON.stringify(expected.data));
  else expect(() => toContract(value)).toThrow(ZodError);
}

describe('compileResponseContract', () => {
  it('returns a result that already is the contract as it is', () => {
    const page = { messages: [message(1), message(2)], has_more: true };
    expect(compileResponseContract(MessagePage)(page)).toBe(page);
    expectLikeZod(MessagePage, page);
  });

  it('drops fields the contract does not list, at any depth', () => {
    const leaky = {
      messages: [{ ...message(1), password_hash: 'x', encryption: { scheme: 'pairwise', secret: 1 } }],
      has_more: false,
      internal: true,
    };
    const out = compileResponseContract(MessagePage)(leaky);
    expect(out).not.toBe(leaky);
    expect(JSON.stringify(out)).not.toMatch(/password_hash|secret|internal/);
    expectLikeZod(MessagePage, leaky);
  });

  it('gives the same JSON as zod for reordered keys, missing optionals and undefined optionals', () => {
    const { id, ...rest } = message(3);
    const encryption = { scheme: 'sender_key' as const, device_id: undefined };
    for (const m of [
      { ...rest, id },
      { ...message(4), encryption },
      { ...message(5), encryption: { scheme: 'pairwise' } },
    ]) {
      expectLikeZod(MessagePage, { messages: [m], has_more: false });
    }
  });

  it('fails with zod’s error when the result breaks the contract', () => {
    const broken: unknown[] = [
      { ...message(1), seq: 0 },
      { ...message(1), seq: 1.5 },
      { ...message(1), created_at: Number.NaN },
      { ...message(1), created_at: Number.POSITIVE_INFINITY },
      { ...message(1), reply_to: undefined },
      { ...message(1), pinned: 'no' },
      { ...message(1), encryption: { scheme: 'plaintext' } },
      { ...message(1), encryption: { scheme: 'pairwise', distribution_id: '' } },
      { ...message(1), encryption: { scheme: 'pairwise', device_id: 2 ** 32 } },
      { ...message(1), mentions: [1] },
      null,
      [],
    ];
    for (const m of broken) expectLikeZod(MessagePage, { messages: [m], has_more: false });
    expectLikeZod(MessagePage, { messages: [], has_more: 'yes' });
    expectLikeZod(MessagePage, null);
  });

  it('lets zod handle objects that are not plain, and schemas it does not model', () => {
    class Row {
      id = 'x';
      toJSON() {
        return { id: 'leak' };
      }
    }
    const Id = z.object({ id: z.string() });
    expectLikeZod(Id, new Row());
    const Either = z.object({ v: z.union([z.string(), z.number()]) });
    expectLikeZod(Either, { v: 1, extra: true });
    const Trimmed = z.object({ s: z.string().trim() });
    expectLikeZod(Trimmed, { s: '  a ' });
    expect(compileResponseContract(Trimmed)({ s: '  a ' })).toEqual({ s: 'a' });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../e2e/bytes.js';
import { EncryptedKeyValueStore, generateStorageKey } from '../e2e/encrypted-kv.js';
import { MemoryKeyValueStore } from '../e2e/kv.js';
import { MessageStore } from './message-store.js';
import type { StoredMessage } from './stored-message.js';
import { terms } from './text.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

let next = 0;
function msg(text: string, over: Partial<StoredMessage> = {}): StoredMessage {
  next++;
  return {
    id: `m${next}`,
    channel_id: 'general',
    sender_id: 'ada',
    seq: next,
    created_at: T0 + next * 60_000,
    edited_at: null,
    expires_at: null,
    text,
    file_names: [],
    ...over,
  };
}

async function found(store: MessageStore, query: Parameters<MessageStore['search']>[0]) {
  const page = await store.search(query);
  return page.hits.map((h) => h.message.text);
}

/** The words of a snippet that are marked as matches. */
async function marked(store: MessageStore, text: string): Promise<string[]> {
  const page = await store.search({ text });
  return page.hits.flatMap((h) => h.snippet.filter((p) => p.match).map((p) => p.text));
}

describe('MessageStore search', () => {
  it('finds messages by a word, by the start of a word, ignoring case and accents', async () => {
    const store = new MessageStore(new MemoryKeyValueStore());
    await store.put(msg('Lunch at the Café tomorrow?'));
    await store.put(msg('The engine weaves algebraic patterns'));
    await store.put(msg('Nothing to see here'));
    await store.put(msg('My résumé is attached'));

    expect(await found(store, { text: 'resume' })).toEqual(['My résumé is attached']);
    expect(await found(store, { text: 'engine' })).toEqual(['The engine weaves algebraic patterns']);
    expect(await found(store, { text: 'algeb' })).toEqual(['The engine weaves algebraic patterns']);
    expect(await found(store, { text: 'cafe' })).toEqual(['Lunch at the Café tomorrow?']);
    expect(await found(store, { text: 'CAFÉ' })).toEqual(['Lunch at the Café tomorrow?']);
    expect(await found(store, { text: 'submarine' })).toEqual([]);
    // Every word must be there.
    expect(await found(store, { text: 'engine lunch' })).toEqual([]);
    expect(await found(store, { text: 'lunch tomorrow' })).toEqual(['Lunch at the Café tomorrow?']);
  });

  it('forgives a typo only when nothing matches exactly, and says so', async () => {
    const store = new MessageStore(new MemoryKeyValueStore());
    await store.put(msg('The release is on Friday'));
    await store.put(msg('Relax, it is fine'));
    const typo = await store.search({ text: 'relese' });
    expect(typo.fuzzy).toBe(true);
    expect(typo.hits.map((h) => h.message.text)).toEqual(['The release is on Friday']);
    const exact = await store.search({ text: 'relax' });
    expect(exact.fuzzy).toBe(false);
    expect(exact.hits.map((h) => h.message.text)).toEqual(['Relax, it is fine']);
  });

  it('lists results newest first, in pages, with a snippet marking the matched words', async () => {
    const store = new MessageStore(new MemoryKeyValueStore());
    for (let i = 1; i <= 7; i++) await store.put(msg(`deploy number ${i}`));
    const first = await store.search({ text: 'deploy', limit: 3 });
    expect(first.total).toBe(7);
    expect(first.hits.map((h) => h.message.text)).toEqual(['deploy number 7', 'deploy number 6', 'deploy number 5']);
    expect(first.nextOffset).toBe(3);
    const last = await store.search({ text: 'deploy', limit: 3, offset: 6 });
    expect(last.hits.map((h) => h.message.text)).toEqual(['deploy number 1']);
    expect(last.nextOffset).toBeNull();
    expect(first.hits[0]!.snippet).toEqual([
      { text: 'deploy', match: true },
      { text: ' number 7', match: false },
    ]);

    const long = `${'filler words '.repeat(20)}the Naïve plan ${'and more words '.repeat(30)}`;
    await store.put(msg(long));
    const hit = (await store.search({ text: 'naive' })).hits[0]!;
    expect(hit.snippet[0]).toEqual({ text: expect.stringMatching(/^….*filler words the $/), match: false });
    expect(hit.snippet[1]).toEqual({ text: 'Naïve', match: true });
    expect(hit.snippet.at(-1)!.text.endsWith('…')).toBe(true);
    expect(await marked(store, 'plan naiv')).toEqual(['Naïve', 'plan']);
  });

  it('combines filters: sender, channel, date range and files, with or without words', async () => {
    const store = new MessageStore(new MemoryKeyValueStore());
    await store.put(msg('budget draft', { sender_id: 'ada', channel_id: 'finance', created_at: T0 }));
    await store.put(msg('budget final', { sender_id: 'grace', channel_id: 'finance', created_at: T0 + 2 * DAY }));
    await store.put(
      msg('budget sheet attached', {
        sender_id: 'grace',
        channel_id: 'general',
        created_at: T0 + 4 * DAY,
        file_names: ['budget-2026.xlsx'],
      }),
    );
    await store.put(msg('', { sender_id: 'ada', channel_id: 'general', file_names: ['holiday photo.jpg'] }));

    expect(await found(store, { text: 'budget', senderId: 'grace' })).toEqual([
      'budget sheet attached',
      'budget final',
    ]);
    expect(await found(store, { text: 'budget', senderId: 'grace', channelId: 'finance' })).toEqual(['budget final']);
    expect(await found(store, { text: 'budget', after: T0 + DAY, before: T0 + 3 * DAY })).toEqual(['budget final']);
    expect(await found(store, { text: 'budget', hasFile: true })).toEqual(['budget sheet attached']);
    expect(await found(store, { text: 'budget', hasFile: false, senderId: 'ada' })).toEqual(['budget draft']);
    // File names are searched too; no words at all lists what the filters allow.
    expect((await store.search({ text: 'photo' })).hits.map((h) => h.message.file_names)).toEqual([
      ['holiday photo.jpg'],
    ]);
    expect((await store.search({ hasFile: true })).total).toBe(2);
    expect((await store.search({ channelId: 'finance' })).total).toBe(2);
  });

  it('refuses queries over the limits', async () => {
    const store = new MessageStore(new MemoryKeyValueStore());
    await expect(store.search({ text: 'x'.repeat(201) })).rejects.toThrow(RangeError);
    await expect(store.search({ text: 'a', limit: 101 })).rejects.toThrow(RangeError);
    await expect(store.search({ text: 'a', offset: -1 })).rejects.toThrow(RangeError);
  });
});

describe('MessageStore changes', () => {
  it('shows the edited text instead of the old one, and never goes back to an older version', async () => {
    const store = new MessageStore(new MemoryKeyValueStore());
    const original = msg('meeting at noon');
    await store.put(original);
    expect(await found(store, { text: 'noon' })).toEqual(['meeting at noon']);
    await store.put({ ...original, text: 'meeting at three', edited_at: original.created_at + 1000 });
    expect(await found(store, { text: 'noon' })).toEqual([]);
    expect(await found(store, { text: 'three' })).toEqual(['meeting at three']);
    // The original arriving late (a history page read before the edit) changes nothing.
    await store.put(original);
    expect(await found(store, { text: 'meeting' })).toEqual(['meeting at three']);
  });

  it('forgets a deleted message, in the index and in the store, and does not take it back', async () => {
    const kv = new MemoryKeyValueStore();
    const store = new MessageStore(kv);
    const secret = msg('the secret launch code');
    await store.put(secret);
    await store.put(msg('an ordinary launch'));
    await store.search({ text: 'launch' });
    await store.remove(secret.id);
    expect(await found(store, { text: 'launch' })).toEqual(['an ordinary launch']);
    await store.put(secret);
    expect(await found(store, { text: 'secret' })).toEqual([]);
    await store.flush();
    const stored = [...kv.map.values()].map((v) => Buffer.from(v).toString('utf8')).join('\n');
    expect(stored).toContain('ordinary');
    expect(stored).not.toContain('secret');
  });

  it('keeps everything across a reopen, over an encrypting KV store, without plaintext in it', async () => {
    const memory = new MemoryKeyValueStore();
    const kv = new EncryptedKeyValueStore(memory, await generateStorageKey());
    const store = new MessageStore(kv);
    const edited = msg('first draft of the poem');
    await store.put(edited);
    await store.put({ ...edited, text: 'final version of the poem', edited_at: edited.created_at + 5 });
    const gone = msg('poem to delete');
    await store.put(gone);
    await store.put(msg('a poem in another channel', { channel_id: 'poetry', seq: 1 }));
    // Deleting before the store has read anything: it finds the message by looking through it.
    await store.flush();
    const fresh = new MessageStore(kv);
    await fresh.remove(gone.id);
    await fresh.close();

    const reopened = new MessageStore(kv);
    expect(await found(reopened, { text: 'poem' })).toEqual(['a poem in another channel', 'final version of the poem']);
    expect(await reopened.count()).toBe(2);
    for (const value of memory.map.values()) {
      expect(Buffer.from(value).includes(Buffer.from(utf8('poem')))).toBe(false);
    }
  });

  it('keeps whether a message is an action ("/me"), across a reopen', async () => {
    const kv = new MemoryKeyValueStore();
    const store = new MessageStore(kv);
    await store.put(msg('waves at everyone', { action: true }));
    await store.put(msg('waves the flag'));
    await store.flush();
    const page = await new MessageStore(kv).search({ text: 'waves' });
    expect(page.hits.map((h) => [h.message.text, h.message.action])).toEqual([
      ['waves the flag', undefined],
      ['waves at everyone', true],
    ]);
  });

  it('writes nothing when a page of messages it has already is read again', async () => {
    const memory = new MemoryKeyValueStore();
    let writes = 0;
    const kv = Object.assign(Object.create(memory) as MemoryKeyValueStore, {
      set: (key: string, value: Uint8Array) => {
        writes++;
        return memory.set(key, value);
      },
    });
    const store = new MessageStore(kv);
    const page = Array.from({ length: 50 }, (_, i) => msg(`history line ${i}`, { channel_id: 'history', seq: i + 1 }));
    for (const m of page) await store.put(m);
    await store.flush();
    expect(writes).toBe(1);
    const reopened = new MessageStore(kv);
    for (const m of page) await reopened.put({ ...m });
    await reopened.flush();
    expect(writes).toBe(1);
  });

  it('drops disappearing messages once they expire', async () => {
    let now = T0;
    const store = new MessageStore(new MemoryKeyValueStore(), { now: () => now });
    await store.put(msg('self destructing note', { expires_at: T0 + 1000 }));
    await store.put(msg('a lasting note'));
    expect(await found(store, { text: 'note' })).toHaveLength(2);
    now = T0 + 1000;
    expect(await found(store, { text: 'note' })).toEqual(['a lasting note']);
  });

  it('wipes everything on sign-out', async () => {
    const kv = new MemoryKeyValueStore();
    const store = new MessageStore(kv);
    await store.put(msg('private words'));
    await store.flush();
    await store.wipe();
    expect(await kv.keys('ms/')).toEqual([]);
    expect(await found(store, { text: 'private' })).toEqual([]);
    expect(await found(new MessageStore(kv), { text: 'private' })).toEqual([]);
  });

  it('records changes made while the index is being built', async () => {
    const store = new MessageStore(new MemoryKeyValueStore(), { sliceMs: 0 });
    const list = Array.from({ length: 600 }, (_, i) => msg(`bulk message ${i}`));
    for (const m of list) await store.put(m);
    const building = store.warm();
    await store.put(msg('arrived during indexing'));
    await store.remove(list[0]!.id);
    await building;
    expect(await found(store, { text: 'arrived' })).toEqual(['arrived during indexing']);
    expect((await store.search({ text: 'bulk' })).total).toBe(599);
  });
});

describe('MessageStore property', () => {
  it('finds every stored message containing word w by w', async () => {
    const word = fc.stringMatching(/^[a-zA-Zàéïôü]{1,10}$/);
    const sentence = fc.array(word, { minLength: 1, maxLength: 8 }).map((ws) => ws.join(' '));
    await fc.assert(
      fc.asyncProperty(fc.array(sentence, { minLength: 1, maxLength: 25 }), fc.nat(), async (texts, pickRaw) => {
        const store = new MessageStore(new MemoryKeyValueStore());
        const stored = texts.map((text, i) => msg(text, { channel_id: `c${i % 3}` }));
        for (const m of stored) await store.put(m);
        const target = stored[pickRaw % stored.length]!;
        const words = terms(target.text);
        const w = target.text.split(' ')[pickRaw % words.length]!;
        const page = await store.search({ text: w, limit: 100 });
        const ids = new Set(page.hits.map((h) => h.message.id));
        for (const m of stored) {
          if (terms(m.text).includes(terms(w)[0]!)) expect(ids.has(m.id), `${m.text} by ${w}`).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });
});

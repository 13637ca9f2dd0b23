// node --import tsx bench/client-search.ts [--messages=100000] [--queries=40]
//
// The SDK's local message store and search (packages/client/src/store) on a made-up history:
// N messages over 20 channels and 50 senders, a chat-like vocabulary (with diacritics), one in
// 20 with a file. The store sits on an AES-GCM-encrypting KV store over memory, as in the
// browser (IndexedDB's own cost is not in these figures). It measures:
//   - recording: every message `put`, then the flush that writes the blocks;
//   - the first search of a reopened store: reading every block and building the index (the
//     cost a person pays once, on their first search), and the longest stretch the event loop
//     was blocked meanwhile (the work yields between slices);
//   - query times afterwards (p50/p95 over several queries of each kind).
import { EncryptedKeyValueStore, generateStorageKey, MemoryKeyValueStore, MessageStore } from '@chatalot/client';

const arg = (name: string, fallback: number) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
};
const MESSAGES = arg('messages', 100_000);
const QUERIES = arg('queries', 40);

const WORDS = (
  'the a and to of in is it you that for on with this are be have was not we can at just do so what ' +
  'engine meeting tomorrow deploy release server database migration coffee lunch weekend photo ' +
  'café résumé naïve über déjà señor crème brûlée façade jalapeño ' +
  'review merge branch ticket sprint bug fix test build pipeline design mockup budget invoice ' +
  'holiday birthday party concert football match train flight hotel weather sunny rain snow'
).split(' ');

/** A deterministic pseudo-random stream, so runs compare. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

/** Watches the event loop: the longest gap between 1 ms timer ticks while `run` works. */
async function withLoopWatch<T>(run: () => Promise<T>): Promise<{ value: T; maxBlockedMs: number }> {
  let last = performance.now();
  let maxBlockedMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxBlockedMs = Math.max(maxBlockedMs, now - last);
    last = now;
  }, 1);
  try {
    const value = await run();
    return { value, maxBlockedMs };
  } finally {
    clearInterval(timer);
  }
}

async function main() {
  const random = rng(42);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const kv = new EncryptedKeyValueStore(new MemoryKeyValueStore(), await generateStorageKey());
  const channels = Array.from({ length: 20 }, (_, i) => `channel-${i}`);
  const senders = Array.from({ length: 50 }, (_, i) => `user-${i}`);
  const seqs = new Map<string, number>();
  const start = Date.UTC(2025, 0, 1);

  let writer: MessageStore | null = new MessageStore(kv);
  let t = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    const channel = pick(channels);
    const seq = (seqs.get(channel) ?? 0) + 1;
    seqs.set(channel, seq);
    const words = Array.from({ length: 4 + Math.floor(random() * 16) }, () => pick(WORDS));
    await writer.put({
      id: `m-${i}`,
      channel_id: channel,
      sender_id: pick(senders),
      seq,
      created_at: start + i * 30_000,
      edited_at: null,
      expires_at: null,
      text: `${words.join(' ')} #${i}`,
      file_names: i % 20 === 0 ? [`${pick(WORDS)}-${i}.pdf`] : [],
    });
  }
  const putMs = performance.now() - t;
  t = performance.now();
  await writer.flush();
  const flushMs = performance.now() - t;
  const blocks = (await kv.keys('ms/b/')).length;
  writer = null;

  // A reopened store: the first search reads everything and builds the index.
  const store = new MessageStore(kv);
  t = performance.now();
  const first = await withLoopWatch(() => store.search({ text: 'engine' }));
  const firstMs = performance.now() - t;

  const kinds: Record<string, () => Parameters<MessageStore['search']>[0]> = {
    'one word': () => ({ text: pick(WORDS.slice(20)) }),
    'prefix (3 letters)': () => ({ text: pick(WORDS.slice(20)).slice(0, 3) }),
    'two words (AND)': () => ({ text: `${pick(WORDS.slice(20))} ${pick(WORDS.slice(20))}` }),
    'diacritics folded': () => ({ text: pick(['cafe', 'resume', 'naive', 'uber', 'creme brulee']) }),
    'typo (fuzzy fallback)': () => ({ text: pick(['engime', 'deploi', 'databaze', 'birthdat']) }),
    'word + channel + sender': () => ({
      text: pick(WORDS.slice(20)),
      channelId: pick(channels),
      senderId: pick(senders),
    }),
    'filters only (has file, date range)': () => ({
      hasFile: true,
      after: start + MESSAGES * 30_000 * 0.25,
      before: start + MESSAGES * 30_000 * 0.5,
    }),
    'common word, page 3': () => ({ text: 'the', offset: 50, limit: 25 }),
  };
  const rows: string[] = [];
  for (const [name, make] of Object.entries(kinds)) {
    const times: number[] = [];
    let total = 0;
    for (let i = 0; i < QUERIES; i++) {
      const q = make();
      const t0 = performance.now();
      const page = await store.search(q);
      times.push(performance.now() - t0);
      total += page.total;
    }
    times.sort((a, b) => a - b);
    rows.push(
      `| ${name} | ${ms(percentile(times, 0.5))} | ${ms(percentile(times, 0.95))} | ${Math.round(total / QUERIES)} |`,
    );
  }

  console.log(`# Client search: ${MESSAGES.toLocaleString('en')} messages (${blocks} blocks)\n`);
  console.log('| step | time |\n|---|---|');
  console.log(`| record every message (put) | ${ms(putMs)} |`);
  console.log(`| write the blocks (flush, AES-GCM) | ${ms(flushMs)} |`);
  console.log(`| first search after reopening: read + index | ${ms(firstMs)} |`);
  console.log(`| longest event-loop stall during it | ${ms(first.maxBlockedMs)} |`);
  console.log(`\n| query (${QUERIES} each) | p50 | p95 | matches (mean) |\n|---|---|---|---|`);
  for (const row of rows) console.log(row);
  // The heap holds the encrypted KV store's values too (in the browser they are on disk).
  (globalThis as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();
  console.log(`\nheap used after (store + index + the in-memory KV): ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`);
}

await main();

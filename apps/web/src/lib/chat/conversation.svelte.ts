/**
 * One open conversation (a group channel or a DM): its messages, each with what decrypting it
 * gave, the messages being sent, who is typing, and the actions on them.
 *
 * Messages come from history (`GET /api/channels/:id/messages`: the newest page on open, older
 * pages on scroll, the gap after a reconnect) and live from the app's GatewayClient (`message`
 * events, once and in order). Every message is decrypted by the E2E session before it is shown;
 * what the view renders for it is the DecryptResult: text only for `ok`, never for `failed`.
 * Sends are encrypted by the messenger and only then handed to GatewayClient.send: the server
 * never sees the text. Edits, deletes, reactions, typing and read marks go over the gateway too.
 */
import { ApiError, isE2EError, type DecryptResult, type MessageContent } from '@chatalot/client';
import { GATEWAY, MESSAGE_LIMITS, Message as MessageSchema, type Message, type SendMessage } from '@chatalot/protocol';
import { SvelteMap } from 'svelte/reactivity';
import { describeError } from '$lib/errors';
import { realtime } from '$lib/realtime.svelte';
import { localSearch } from '$lib/search/local-search.svelte';
import { session } from '$lib/session.svelte';
import { workspace } from '$lib/workspace.svelte';
import { e2e, type ConversationKind, type MemberCard } from './e2e-session.svelte';
import { forgetVersions, keepVersion } from './versions';

/** A message and what decrypting it gave. */
export interface ChatEntry {
  message: Message;
  result: DecryptResult;
}

/** The message a reply quotes, as far as it is known here. */
export interface ReplyQuote {
  id: string;
  name: string | null;
  /** The original's text; else the preview the replier sent (inside the encrypted reply); else null. */
  text: string | null;
  deleted: boolean;
}

/** A message of ours on its way: shown from memory until the server's copy arrives. */
export interface PendingSend {
  nonce: string;
  text: string;
  reply: MessageContent['reply'] | null;
  /** An action ("/me waves"), sent with the content's `action` flag. */
  action: boolean;
  /** A reply in the thread of this root message (no quote: it shows in the thread, not the channel). */
  thread: string | null;
  /** Who it mentions (the server counts mentions per reader; the text stays encrypted). */
  mentions: { mentions: string[]; mention_everyone: boolean } | null;
  /** `sent`: acknowledged, waiting for its copy on the socket. */
  status: 'encrypting' | 'sending' | 'sent' | 'failed';
  error: string | null;
  /** The encrypted message, kept so a retry sends the same nonce and ciphertext. */
  input: SendMessage | null;
  createdAt: number;
}

const PAGE = 50;
/** How far back the first load reads to reach the read cursor ("NEW MESSAGES"). */
const MAX_INITIAL = 300;
export const REPLY_PREVIEW_CHARS = 200;

function newNonce(): string {
  return globalThis.crypto.randomUUID();
}

/** Inserts (or replaces, by id) entries, keeping seq order. */
function merge(list: readonly ChatEntry[], add: readonly ChatEntry[]): ChatEntry[] {
  // A local index, thrown away at once: nothing reactive.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  const byId = new Map(list.map((e) => [e.message.id, e]));
  for (const e of add) byId.set(e.message.id, e);
  return [...byId.values()].sort((a, b) => a.message.seq - b.message.seq);
}

/** A sentence about a failed send, fit to show under the message. */
export function describeSendError(err: unknown, names: (id: string) => string): string {
  if (isE2EError(err, 'untrusted_identity')) {
    const who = err.userIds.map(names).join(', ') || 'someone here';
    return `Not sent: the security key of ${who} changed. Review it above, then try again.`;
  }
  if (isE2EError(err, 'no_recipients'))
    return 'Not sent: nobody else here has set up encryption yet (they need to open Chatalot once).';
  if (isE2EError(err, 'too_large')) return 'Not sent: the message is too long.';
  if (isE2EError(err, 'own_identity_changed'))
    return 'Not sent: your account started over with a new key on another device.';
  if (isE2EError(err)) return `Not sent: it could not be encrypted (${err.code}).`;
  if (err instanceof ApiError) {
    switch (err.code) {
      case 'channel_read_only':
        return 'Not sent: only moderators can post in this channel.';
      case 'channel_archived':
        return 'Not sent: this channel is archived.';
      case 'slow_mode':
        return `Not sent: ${err.message}.`;
      case 'blocked':
        return 'Not sent: you cannot message this person (one of you blocked the other).';
      case 'network_error':
        return 'Not sent: the connection was lost.';
      default:
        return `Not sent: ${describeError(err).message}`;
    }
  }
  return 'Not sent: something went wrong.';
}

export class Conversation {
  /** Messages, ascending by seq, each decrypted. */
  entries = $state.raw<ChatEntry[]>([]);
  pending = $state.raw<PendingSend[]>([]);
  loading = $state(true);
  loadError = $state<string | null>(null);
  /** More history lies before the first entry. */
  hasMoreBefore = $state(false);
  loadingOlder = $state(false);
  olderError = $state<string | null>(null);
  /** The people in the conversation (the signed-in user included). */
  members = $state.raw<MemberCard[]>([]);
  /** Who is typing, by user id, until when. */
  readonly typing = new SvelteMap<string, number>();
  /** The clock, moved every few seconds (edit windows). */
  now = $state(Date.now());

  /** The read cursor when the conversation opened: later messages of others are new. */
  newAfterSeq = $state<number | null>(null);

  /** Called when a new message from someone else arrives (the view counts unseen ones). */
  onArrival: ((entry: ChatEntry) => void) | null = null;

  private closed = false;
  // Bookkeeping that no view reads: plain sets.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly inflight = new Set<string>();
  /** Messages named by a `retry` event before they were on the list (still being decrypted). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly lateRetries = new Set<string>();
  private lastTyping = 0;
  private memberTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly id: string,
    readonly kind: ConversationKind,
    /** The read cursor when the conversation opened (see read-cursor.ts). */
    private readonly cursor: Promise<number | null>,
  ) {}

  get me(): string | undefined {
    return session.user?.id;
  }

  /** Subscribes and loads; returns the cleanup. */
  open(): () => void {
    e2e.registerKind(this.id, this.kind);
    const offs = [
      realtime.on('message', (message) => {
        if (message.channel_id === this.id) void this.receive(message);
      }),
      realtime.on('event', (event) => this.onEvent(event)),
      // A hand-over between sockets misses nothing (realtime passes each seq on once).
      realtime.onReady((kind) => {
        if (kind !== 'handover') void this.catchUp();
      }),
      e2e.onRetry((messages) => void this.onRetry(messages)),
    ];
    let ticks = 0;
    const timer = setInterval(() => {
      const now = Date.now();
      for (const [userId, until] of this.typing) if (until <= now) this.typing.delete(userId);
      if (++ticks % 10 === 0) this.now = now;
    }, 1000);
    void this.loadMembers();
    void this.loadInitial();
    return () => {
      this.closed = true;
      for (const off of offs) off();
      clearInterval(timer);
      if (this.memberTimer) clearTimeout(this.memberTimer);
    };
  }

  // Loading

  private async loadMembers(): Promise<void> {
    try {
      const list = await e2e.membersOf(this.id);
      if (!this.closed) this.members = list;
    } catch {
      // Names fall back to what the workspace knows.
    }
  }

  private async history(query: { before?: number; after?: number; limit: number }) {
    return session.client.messages.history(this.id, query);
  }

  private async decryptAll(messages: readonly Message[]): Promise<ChatEntry[]> {
    const out: ChatEntry[] = [];
    for (const message of messages) out.push({ message, result: await e2e.decrypt(message) });
    return out;
  }

  async loadInitial(): Promise<void> {
    this.loading = true;
    this.loadError = null;
    try {
      this.newAfterSeq = await this.cursor;
      const page = await this.history({ limit: PAGE });
      let entries = await this.decryptAll(page.messages);
      let hasMore = page.has_more;
      // Read back to the read cursor, so the "NEW MESSAGES" line is on screen (within reason).
      while (
        hasMore &&
        this.newAfterSeq !== null &&
        entries.length > 0 &&
        entries[0]!.message.seq > this.newAfterSeq + 1 &&
        entries.length < MAX_INITIAL &&
        !this.closed
      ) {
        const older = await this.history({ before: entries[0]!.message.seq, limit: PAGE });
        entries = merge(entries, await this.decryptAll(older.messages));
        hasMore = older.has_more;
      }
      if (this.closed) return;
      this.add(entries);
      this.hasMoreBefore = hasMore;
      this.loading = false;
      // Messages sent while the page was read (before the socket had them) are read now.
      void this.catchUp();
    } catch (err) {
      if (this.closed) return;
      this.loadError = describeError(err).message;
      this.loading = false;
    }
  }

  /** Reads the page before the first message. `beforeChange` runs just before it is shown. */
  async loadOlder(beforeChange?: () => void): Promise<void> {
    if (this.loading || this.loadingOlder || !this.hasMoreBefore) return;
    const first = this.entries[0]?.message.seq;
    if (first === undefined) return;
    this.loadingOlder = true;
    this.olderError = null;
    try {
      const page = await this.history({ before: first, limit: PAGE });
      const older = await this.decryptAll(page.messages);
      if (this.closed) return;
      beforeChange?.();
      this.add(older);
      this.hasMoreBefore = page.has_more;
    } catch (err) {
      if (!this.closed) this.olderError = describeError(err).message;
    } finally {
      this.loadingOlder = false;
    }
  }

  /** After a reconnect (or a send whose copy did not come): reads what came after the last message. */
  async catchUp(): Promise<void> {
    if (this.loading || this.closed) return;
    let after = this.entries.at(-1)?.message.seq ?? 0;
    try {
      for (;;) {
        const page = await this.history({ after, limit: MESSAGE_LIMITS.historyPage });
        for (const message of page.messages) await this.receive(message);
        const last = page.messages.at(-1);
        if (!page.has_more || !last || this.closed) return;
        after = last.seq;
      }
    } catch {
      // The next reconnect tries again.
    }
  }

  // Live

  /** A message from the socket or a catch-up read: decrypted, then shown (once). */
  async receive(message: Message): Promise<void> {
    const id = message.id;
    if (this.inflight.has(id) || this.entries.some((e) => e.message.id === id)) return;
    this.inflight.add(id);
    try {
      const result = await e2e.decrypt(message);
      if (this.closed) return;
      const entry = { message, result };
      this.add([entry]);
      if (message.sender_id === this.me) {
        this.pending = this.pending.filter((p) => p.nonce !== message.nonce);
      } else {
        this.typing.delete(message.sender_id);
        this.onArrival?.(entry);
      }
    } finally {
      this.inflight.delete(id);
    }
  }

  private onEvent(event: { type: string; [field: string]: unknown }): void {
    if (this.closed) return;
    if (event.type.startsWith('member.') || event.type === 'dm.created') {
      // Names and the member list for encryption: read again shortly.
      if (this.memberTimer) clearTimeout(this.memberTimer);
      this.memberTimer = setTimeout(() => void this.loadMembers(), 500);
      return;
    }
    if (event.channel_id !== this.id) return;
    switch (event.type) {
      case 'message.updated': {
        const parsed = MessageSchema.safeParse(event.message);
        if (parsed.success) void this.applyUpdate(parsed.data);
        return;
      }
      case 'message.deleted':
        if (typeof event.message_id === 'string') this.applyDelete(event.message_id);
        return;
      case 'message.pinned':
      case 'message.unpinned':
        if (typeof event.message_id === 'string') {
          const pinned = event.type === 'message.pinned';
          this.replace(event.message_id, (e) => ({ ...e, message: { ...e.message, pinned } }));
        }
        return;
      case 'reaction.added':
      case 'reaction.removed':
        if (
          typeof event.message_id === 'string' &&
          typeof event.emoji === 'string' &&
          typeof event.user_id === 'string'
        )
          this.applyReaction(event.message_id, event.emoji, event.user_id, event.type === 'reaction.added');
        return;
      case 'typing': {
        const userId = event.user_id;
        if (typeof userId !== 'string' || userId === this.me) return;
        const ttl = typeof event.expires_in_ms === 'number' ? event.expires_in_ms : GATEWAY.typingTtlMs;
        this.typing.set(userId, Date.now() + Math.min(ttl, GATEWAY.typingTtlMs));
        return;
      }
    }
  }

  private async onRetry(messages: readonly Message[]): Promise<void> {
    for (const waiting of messages) {
      if (waiting.channel_id !== this.id) continue;
      const entry = this.entries.find((e) => e.message.id === waiting.id);
      if (!entry) {
        // Still being decrypted (the first page, say): tried again once it is on the list.
        this.lateRetries.add(waiting.id);
        continue;
      }
      if (entry.result.status === 'ok') continue;
      const message = entry.message;
      const result = await e2e.decrypt(message);
      this.replace(message.id, (e) => (e.message === message ? { message, result } : e));
    }
  }

  /** Adds entries to the list, then decrypts again those a `retry` named meanwhile. */
  private add(entries: readonly ChatEntry[]): void {
    this.entries = merge(this.entries, entries);
    if (this.lateRetries.size === 0) return;
    const again = entries.filter((e) => this.lateRetries.has(e.message.id));
    for (const e of again) this.lateRetries.delete(e.message.id);
    const retry = again.filter((e) => e.result.status !== 'ok').map((e) => e.message);
    if (retry.length > 0) void this.onRetry(retry);
  }

  private replace(id: string, change: (entry: ChatEntry) => ChatEntry): void {
    if (this.closed) return;
    this.entries = this.entries.map((e) => (e.message.id === id ? change(e) : e));
  }

  private async applyUpdate(message: Message): Promise<void> {
    const current = this.entries.find((e) => e.message.id === message.id);
    if (!current) return;
    if (current.message.ciphertext === message.ciphertext && current.message.edited_at === message.edited_at) {
      // Same body (e.g. our own edit, answered and then echoed): keep the result.
      this.replace(message.id, (e) => ({ ...e, message: { ...message, reactions: e.message.reactions } }));
      return;
    }
    // The previous text cannot be decrypted again later: keep it for the edit history.
    if (current.result.status === 'ok') {
      await keepVersion(message.id, current.message.ciphertext, current.result.plaintext).catch(() => undefined);
    }
    const result = await e2e.decrypt(message);
    this.replace(message.id, (e) =>
      (e.message.edited_at ?? 0) > (message.edited_at ?? 0) ? e : { message: { ...message }, result },
    );
  }

  private applyDelete(messageId: string): void {
    this.replace(messageId, (e) => ({
      message: { ...e.message, deleted_at: e.message.deleted_at ?? Date.now(), ciphertext: '', reactions: [] },
      result: { status: 'failed', reason: 'deleted' },
    }));
    void e2e.client?.messenger.forgetMessage(messageId).catch(() => undefined);
    void forgetVersions(messageId).catch(() => undefined);
    localSearch.remove(messageId, this.entries.find((e) => e.message.id === messageId)?.message);
  }

  private applyReaction(messageId: string, emoji: string, userId: string, add: boolean): void {
    this.replace(messageId, (e) => {
      const reactions = e.message.reactions.map((r) => ({ ...r, user_ids: [...r.user_ids] }));
      let reaction = reactions.find((r) => r.emoji === emoji);
      if (add) {
        if (!reaction) {
          reaction = { emoji, user_ids: [] };
          reactions.push(reaction);
        }
        if (!reaction.user_ids.includes(userId)) reaction.user_ids.push(userId);
      } else if (reaction) {
        reaction.user_ids = reaction.user_ids.filter((u) => u !== userId);
      }
      return { ...e, message: { ...e.message, reactions: reactions.filter((r) => r.user_ids.length > 0) } };
    });
  }

  // Actions

  /**
   * Encrypts and sends a message: a reply (quoting it) when `replyTo` is given, a reply in the
   * thread of `options.thread` (a root message id) when that is; an action with `options.action`.
   */
  send(
    text: string,
    replyTo: ChatEntry | null,
    names: (id: string) => string,
    options: { thread?: string | null; mentions?: PendingSend['mentions']; action?: boolean } = {},
  ): Promise<void> {
    const reply =
      replyTo && replyTo.result.status === 'ok'
        ? { message_id: replyTo.message.id, preview: replyTo.result.plaintext.slice(0, REPLY_PREVIEW_CHARS) }
        : replyTo
          ? { message_id: replyTo.message.id }
          : null;
    const pending: PendingSend = {
      nonce: newNonce(),
      text,
      reply,
      action: options.action ?? false,
      thread: options.thread ?? null,
      mentions: options.mentions ?? null,
      status: 'encrypting',
      error: null,
      input: null,
      createdAt: Date.now(),
    };
    this.pending = [...this.pending, pending];
    return this.deliver(pending.nonce, names);
  }

  /** Sends a failed message again (the same ciphertext when it was encrypted already). */
  retrySend(nonce: string, names: (id: string) => string): Promise<void> {
    this.updatePending(nonce, (p) => ({ ...p, status: p.input ? 'sending' : 'encrypting', error: null }));
    return this.deliver(nonce, names);
  }

  discard(nonce: string): void {
    this.pending = this.pending.filter((p) => p.nonce !== nonce);
  }

  private updatePending(nonce: string, change: (p: PendingSend) => PendingSend): void {
    this.pending = this.pending.map((p) => (p.nonce === nonce ? change(p) : p));
  }

  private async deliver(nonce: string, names: (id: string) => string): Promise<void> {
    const pending = this.pending.find((p) => p.nonce === nonce);
    if (!pending) return;
    try {
      let input = pending.input;
      if (!input) {
        const client = e2e.client;
        if (!client) throw new Error('Encryption is not ready');
        const content: MessageContent = {
          text: pending.text,
          ...(pending.reply ? { reply: pending.reply } : {}),
          ...(pending.action ? { action: true } : {}),
        };
        const replyTo = pending.reply?.message_id ?? pending.thread;
        const mentions = pending.mentions;
        const extras = {
          nonce,
          ...(replyTo ? { reply_to: replyTo } : {}),
          ...(mentions && mentions.mentions.length > 0 ? { mentions: mentions.mentions } : {}),
          ...(mentions?.mention_everyone ? { mention_everyone: true } : {}),
        };
        input =
          this.kind === 'dm'
            ? await client.messenger.encryptDirectMessage(this.id, content, extras)
            : await client.messenger.encryptChannelMessage(this.id, content, extras);
        const encrypted = input;
        this.updatePending(nonce, (p) => ({ ...p, input: encrypted, status: 'sending' }));
      }
      const gateway = realtime.client;
      if (!gateway) throw new ApiError('network_error', 'Not connected', 0);
      await gateway.send(input);
      this.updatePending(nonce, (p) => ({ ...p, status: 'sent' }));
      // Its copy normally arrives on the socket at once; if it does not (a conversation the
      // socket was not subscribed to yet), read it from history.
      setTimeout(() => {
        if (this.pending.some((p) => p.nonce === nonce)) void this.catchUp();
      }, 1500);
    } catch (err) {
      if (isE2EError(err, 'untrusted_identity')) for (const userId of err.userIds) e2e.changed.add(userId);
      this.updatePending(nonce, (p) => ({ ...p, status: 'failed', error: describeSendError(err, names) }));
    }
  }

  /** Replaces the text of one of our messages (within 15 minutes). */
  async edit(entry: ChatEntry, text: string): Promise<void> {
    const client = e2e.client;
    const gateway = realtime.client;
    if (!client || !gateway) throw new ApiError('network_error', 'Not connected', 0);
    const original = entry.result.status === 'ok' ? entry.result.content : undefined;
    // An edit changes the text only: the quote and the action flag stay.
    const ciphertext = await client.messenger.encryptEdit(entry.message, {
      text,
      ...(original?.reply ? { reply: original.reply } : {}),
      ...(original?.action ? { action: true } : {}),
    });
    const updated = await gateway.edit(entry.message.id, ciphertext);
    await this.applyUpdate(updated);
  }

  async remove(entry: ChatEntry): Promise<void> {
    const gateway = realtime.client;
    if (!gateway) throw new ApiError('network_error', 'Not connected', 0);
    await gateway.delete(entry.message.id);
    this.applyDelete(entry.message.id);
  }

  async toggleReaction(entry: ChatEntry, emoji: string): Promise<void> {
    const me = this.me;
    const gateway = realtime.client;
    if (!me || !gateway) return;
    const current = this.entries.find((e) => e.message.id === entry.message.id) ?? entry;
    const mine = current.message.reactions.some((r) => r.emoji === emoji && r.user_ids.includes(me));
    this.applyReaction(entry.message.id, emoji, me, !mine);
    try {
      if (mine) await gateway.unreact(entry.message.id, emoji);
      else await gateway.react(entry.message.id, emoji);
    } catch (err) {
      this.applyReaction(entry.message.id, emoji, me, mine);
      throw err;
    }
  }

  /** Says "typing…" (at most once every 3 s). */
  typingNow(): void {
    const now = Date.now();
    if (now - this.lastTyping < GATEWAY.typingIntervalMs) return;
    this.lastTyping = now;
    realtime.client?.typing(this.id).catch(() => undefined);
  }

  /** Sending a message ends "typing…" on our side. */
  stoppedTyping(): void {
    this.lastTyping = 0;
  }

  /** Marks the conversation read up to its last message (the reader sees the bottom). */
  markRead(): void {
    const last = this.entries.at(-1)?.message.seq;
    if (last === undefined) return;
    const state = workspace.reads.get(this.id);
    // The sidebar's unread badge.
    if (state && (state.read_seq < state.last_seq || state.unread > 0)) workspace.markRead(this.id);
    if (last > this.markedSeq && (!state || state.read_seq < last)) {
      this.markedSeq = last;
      realtime.client?.markRead(this.id, last).catch(() => undefined);
    }
  }

  private markedSeq = 0;
}

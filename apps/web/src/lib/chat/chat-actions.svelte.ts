/**
 * What a person can do with the messages of one conversation, and the state of doing it: the
 * reply being written, the message being edited, the dialogs (delete, forward, edit history),
 * the open message menu, and the keyboard shortcuts of a focused message. The message list and
 * the thread panel share one of these, so a message behaves the same in both.
 */
import { MESSAGE_LIMITS } from '@chatalot/protocol';
import { describeError } from '$lib/errors';
import type { Conversation, ChatEntry } from './conversation.svelte';
import type { MenuAnchor } from './MessageItem.svelte';
import { messageActions, shortcutAction, type Abilities, type MessageActionId } from './menu/message-actions';
import { chatPanel } from './panels/panel-state.svelte';
import { pinMessage } from './panels/pins.svelte';

export interface ChatContext {
  /** A DM or group DM (pins are open to every member there). */
  isDm: boolean;
  me: () => string | undefined;
  moderator: () => boolean;
  archived: () => boolean;
  /** Why the person cannot post here, or null. */
  disabledReason: () => string | null;
  focusComposer: () => void;
}

export class ChatActions {
  replyTo = $state.raw<ChatEntry | null>(null);
  editingId = $state<string | null>(null);
  deleting = $state.raw<ChatEntry | null>(null);
  forwarding = $state.raw<ChatEntry | null>(null);
  history = $state.raw<ChatEntry | null>(null);
  menu = $state.raw<{ entry: ChatEntry; anchor: MenuAnchor; inThread: boolean; from: HTMLElement | null } | null>(null);
  /** A failed action, shown above the composer. */
  error = $state<string | null>(null);
  /** A short confirmation ("Copied"). */
  notice = $state<string | null>(null);
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly conv: Conversation,
    private readonly ctx: ChatContext,
  ) {}

  // Who may do what

  canEdit(entry: ChatEntry): boolean {
    return (
      entry.message.sender_id === this.ctx.me() &&
      entry.result.status === 'ok' &&
      entry.message.deleted_at === null &&
      !this.ctx.archived() &&
      this.conv.now - entry.message.created_at < MESSAGE_LIMITS.editWindowMs
    );
  }

  canDelete(entry: ChatEntry): boolean {
    return (
      entry.message.deleted_at === null &&
      (entry.message.sender_id === this.ctx.me() || (!this.ctx.isDm && this.ctx.moderator()))
    );
  }

  /** In DMs every member; in channels group admins and moderators (the server checks again). */
  canPin(): boolean {
    return !this.ctx.archived() && (this.ctx.isDm || this.ctx.moderator());
  }

  abilities(entry: ChatEntry, inThread: boolean): Abilities {
    const posting = this.ctx.disabledReason() === null;
    return {
      canReply: posting && !inThread,
      canThread: posting && !inThread && entry.message.deleted_at === null,
      canEdit: this.canEdit(entry),
      canPin: this.canPin(),
      canDelete: this.canDelete(entry),
      canForward: true,
    };
  }

  actionsFor(entry: ChatEntry, inThread: boolean) {
    return messageActions(entry, this.abilities(entry, inThread));
  }

  // Doing it

  run(id: MessageActionId, entry: ChatEntry, inThread = false): void {
    const allowed = this.actionsFor(entry, inThread).some((a) => a.id === id);
    if (!allowed) return;
    this.error = null;
    switch (id) {
      case 'reply':
        this.replyTo = entry;
        this.editingId = null;
        this.ctx.focusComposer();
        return;
      case 'thread':
        this.openThread(entry);
        return;
      case 'edit':
        this.editingId = entry.message.id;
        return;
      case 'copy-text':
        if (entry.result.status === 'ok') void this.copy(entry.result.plaintext, 'Text copied.');
        return;
      case 'copy-link':
        void this.copy(`${location.origin}${location.pathname}#msg-${entry.message.id}`, 'Link copied.');
        return;
      case 'pin':
        void this.pin(entry);
        return;
      case 'forward':
        this.forwarding = entry;
        return;
      case 'history':
        this.history = entry;
        return;
      case 'delete':
        this.deleting = entry;
        return;
    }
  }

  openThread(entry: ChatEntry): void {
    const root = entry.message.thread_root ?? entry.message.id;
    chatPanel.openThread(this.conv.id, root);
  }

  react(entry: ChatEntry, emoji: string): void {
    this.error = null;
    this.conv.toggleReaction(entry, emoji).catch((err: unknown) => {
      this.error = `The reaction was not saved: ${describeError(err).message}`;
    });
  }

  async saveEdit(entry: ChatEntry, text: string): Promise<void> {
    try {
      await this.conv.edit(entry, text);
      this.editingId = null;
    } catch (err) {
      throw new Error(describeError(err).message, { cause: err });
    }
  }

  private async pin(entry: ChatEntry): Promise<void> {
    const pinned = !entry.message.pinned;
    try {
      await pinMessage(entry, pinned);
      this.say(pinned ? 'Pinned.' : 'Unpinned.');
    } catch (err) {
      this.error = err instanceof Error ? err.message : 'The pin was not saved.';
    }
  }

  private async copy(text: string, done: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      this.say(done);
    } catch {
      this.error = 'The clipboard is not available here.';
    }
  }

  say(notice: string): void {
    this.notice = notice;
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => (this.notice = null), 2500);
  }

  // The menu and the keyboard

  openMenu(entry: ChatEntry, anchor: MenuAnchor, inThread: boolean): void {
    const from = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.menu = { entry, anchor, inThread, from };
  }

  closeMenu(returnFocus: boolean): void {
    const from = this.menu?.from;
    this.menu = null;
    if (returnFocus && from?.isConnected) from.focus();
  }

  /**
   * Keys on a focused message (the list's `onkeydown`): R reply, E edit, T thread, P pin,
   * Delete, ↑/↓ to the previous or next message, Enter or the menu key for the menu.
   */
  onKey(event: KeyboardEvent, find: (id: string) => ChatEntry | undefined, inThread = false): void {
    const article = event.target as HTMLElement;
    if (article.dataset.testid !== 'message' || event.defaultPrevented) return;
    const entry = find(article.dataset.messageId ?? '');
    if (!entry) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const all = [...(event.currentTarget as HTMLElement).querySelectorAll<HTMLElement>('[data-testid="message"]')];
      const next = all[all.indexOf(article) + (event.key === 'ArrowDown' ? 1 : -1)];
      if (next) {
        event.preventDefault();
        next.focus();
        next.scrollIntoView({ block: 'nearest' });
      }
      return;
    }
    if (event.key === 'Enter' || event.key === 'ContextMenu' || (event.key === 'F10' && event.shiftKey)) {
      event.preventDefault();
      const more = article.querySelector<HTMLElement>('[aria-label="More actions"]');
      this.openMenu(entry, more?.offsetParent ? more : article, inThread);
      return;
    }
    const id = shortcutAction(event);
    if (!id) return;
    event.preventDefault();
    this.run(id, entry, inThread);
  }
}

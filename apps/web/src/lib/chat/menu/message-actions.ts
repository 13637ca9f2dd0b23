/**
 * The actions on one message, in menu order, for what the person may do with it. The menu, the
 * hover toolbar and the keyboard shortcuts (R, E, T, P, Delete) all go through this list.
 */
import type { IconName } from '$lib/components/Icon.svelte';
import type { ChatEntry } from '../conversation.svelte';

export type MessageActionId =
  'reply' | 'thread' | 'edit' | 'copy-text' | 'copy-link' | 'pin' | 'forward' | 'history' | 'delete';

export interface MessageAction {
  id: MessageActionId;
  label: string;
  icon: IconName;
  /** The key that does it while the message has focus. */
  shortcut?: string;
  danger?: boolean;
}

export interface Abilities {
  canReply: boolean;
  canThread: boolean;
  canEdit: boolean;
  canPin: boolean;
  canDelete: boolean;
  canForward: boolean;
}

export function messageActions(entry: ChatEntry, may: Abilities): MessageAction[] {
  const ok = entry.result.status === 'ok' && entry.message.deleted_at === null;
  const actions: MessageAction[] = [];
  if (ok && may.canReply) actions.push({ id: 'reply', label: 'Reply', icon: 'reply', shortcut: 'R' });
  if (ok && may.canThread) actions.push({ id: 'thread', label: 'Reply in thread', icon: 'message', shortcut: 'T' });
  if (may.canEdit) actions.push({ id: 'edit', label: 'Edit', icon: 'pencil', shortcut: 'E' });
  if (ok) actions.push({ id: 'copy-text', label: 'Copy text', icon: 'copy' });
  if (entry.message.deleted_at === null) actions.push({ id: 'copy-link', label: 'Copy link', icon: 'link' });
  if (may.canPin && entry.message.deleted_at === null)
    actions.push({
      id: 'pin',
      label: entry.message.pinned ? 'Unpin' : 'Pin',
      icon: 'pin',
      shortcut: 'P',
    });
  if (ok && may.canForward) actions.push({ id: 'forward', label: 'Forward', icon: 'forward' });
  if (entry.message.edited_at !== null && entry.message.deleted_at === null)
    actions.push({ id: 'history', label: 'View edit history', icon: 'clock' });
  if (may.canDelete) actions.push({ id: 'delete', label: 'Delete', icon: 'trash', shortcut: 'Del', danger: true });
  return actions;
}

/** The action a key press asks for, if any (no modifier keys). */
export function shortcutAction(event: KeyboardEvent): MessageActionId | null {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  switch (event.key) {
    case 'r':
    case 'R':
      return 'reply';
    case 'e':
    case 'E':
      return 'edit';
    case 't':
    case 'T':
      return 'thread';
    case 'p':
    case 'P':
      return 'pin';
    case 'Delete':
      return 'delete';
    default:
      return null;
  }
}

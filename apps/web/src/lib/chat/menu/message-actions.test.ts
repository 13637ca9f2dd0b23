import type { DecryptResult } from '@chatalot/client';
import { describe, expect, it } from 'vitest';
import type { ChatEntry } from '../conversation.svelte';
import { testEntry } from '../test-entry';
import { messageActions, shortcutAction, type Abilities } from './message-actions';

const { message, result: ok } = testEntry('m', 1, {}, { text: 'hi' });
const all: Abilities = {
  canReply: true,
  canThread: true,
  canEdit: true,
  canPin: true,
  canDelete: true,
  canForward: true,
};
const ids = (entry: ChatEntry, may: Abilities = all) => messageActions(entry, may).map((a) => a.id);

describe('messageActions', () => {
  it('offers everything allowed, in menu order', () => {
    expect(ids({ message, result: ok })).toEqual([
      'reply',
      'thread',
      'edit',
      'copy-text',
      'copy-link',
      'pin',
      'forward',
      'delete',
    ]);
  });

  it('says Unpin for a pinned message and offers the history of an edited one', () => {
    const entry = { message: { ...message, pinned: true, edited_at: 5 }, result: ok };
    const actions = messageActions(entry, all);
    expect(actions.find((a) => a.id === 'pin')?.label).toBe('Unpin');
    expect(actions.some((a) => a.id === 'history')).toBe(true);
  });

  it('leaves out what the person may not do', () => {
    const member = { ...all, canEdit: false, canPin: false, canDelete: false };
    expect(ids({ message, result: ok }, member)).toEqual(['reply', 'thread', 'copy-text', 'copy-link', 'forward']);
  });

  it('offers no text actions on a message that did not decrypt, and nothing but delete on a deleted one', () => {
    const failed: DecryptResult = { status: 'failed', reason: 'invalid_format' };
    expect(ids({ message, result: failed }, { ...all, canEdit: false })).toEqual(['copy-link', 'pin', 'delete']);
    const deleted = {
      message: { ...message, deleted_at: 2 },
      result: { status: 'failed', reason: 'deleted' } as const,
    };
    expect(ids(deleted, { ...all, canEdit: false, canDelete: false })).toEqual([]);
  });
});

describe('shortcutAction', () => {
  const key = (k: string, extra: Partial<KeyboardEventInit> = {}) =>
    ({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...extra }) as KeyboardEvent;

  it('maps R, E, T, P and Delete, and nothing with a modifier', () => {
    expect(['r', 'E', 't', 'P', 'Delete', 'x'].map((k) => shortcutAction(key(k)))).toEqual([
      'reply',
      'edit',
      'thread',
      'pin',
      'delete',
      null,
    ]);
    expect(shortcutAction(key('r', { ctrlKey: true }))).toBeNull();
  });
});

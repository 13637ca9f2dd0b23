/**
 * Forwarding: the text of a message, encrypted again by this device for another conversation
 * (Sender Keys for a channel, pairwise for a DM) and sent there with `forwarded_from` naming the
 * original, so it shows as "Forwarded". The server checks that the forwarder may read the
 * original; it never sees either text. An optional note goes first, as a message of its own.
 */
import { ApiError, type MessageContent } from '@chatalot/client';
import type { Channel, Dm } from '$lib/api/spaces';
import { dmTitle } from '$lib/dm';
import { can, effectiveRank } from '$lib/roles';
import { realtime } from '$lib/realtime.svelte';
import { session } from '$lib/session.svelte';
import { workspace } from '$lib/workspace.svelte';
import type { ChatEntry } from './conversation.svelte';
import { e2e, type ConversationKind } from './e2e-session.svelte';

/** A conversation a message can be forwarded to. */
export interface ForwardTarget {
  id: string;
  kind: ConversationKind;
  /** "#general" or a DM's title. */
  label: string;
  /** The community and group, for channels. */
  detail: string;
}

function mayPost(channel: Channel): boolean {
  if (channel.kind !== 'text' || channel.archived) return false;
  if (!channel.read_only) return true;
  const community = workspace.community(channel.community_id ?? undefined);
  const group = community ? workspace.groups.get(community.id)?.find((g) => g.id === channel.group_id) : undefined;
  if (!community) return false;
  return group ? can.manageGroup(community, group, session.isAdmin) : effectiveRank(community, session.isAdmin) >= 2;
}

/** Every conversation the signed-in user can write in: DMs first, then channels by community. */
export function forwardTargets(): ForwardTarget[] {
  const dms = (workspace.dms ?? []).map((dm: Dm) => ({
    id: dm.id,
    kind: 'dm' as const,
    label: dmTitle(dm),
    detail: dm.kind === 'dm' ? 'Direct message' : 'Group conversation',
  }));
  const channels: ForwardTarget[] = [];
  for (const community of workspace.communities ?? []) {
    for (const group of workspace.joinedGroups(community.id) ?? []) {
      for (const channel of workspace.channelsOf(group.id) ?? []) {
        if (!mayPost(channel)) continue;
        channels.push({
          id: channel.id,
          kind: 'channel',
          label: `#${channel.name}`,
          detail: group.name === community.name ? community.name : `${community.name} · ${group.name}`,
        });
      }
    }
  }
  return [...dms, ...channels];
}

async function encryptAndSend(target: ForwardTarget, content: MessageContent, forwardedFrom?: string) {
  const client = e2e.client;
  const gateway = realtime.client;
  if (!client || !gateway) throw new ApiError('network_error', 'Not connected', 0);
  e2e.registerKind(target.id, target.kind);
  const extras = forwardedFrom ? { forwarded_from: forwardedFrom } : {};
  const input =
    target.kind === 'dm'
      ? await client.messenger.encryptDirectMessage(target.id, content, extras)
      : await client.messenger.encryptChannelMessage(target.id, content, extras);
  await gateway.send(input);
}

/** Sends the note (if any), then the forwarded message, both encrypted for `target`. */
export async function forwardMessage(entry: ChatEntry, target: ForwardTarget, note: string): Promise<void> {
  if (entry.result.status !== 'ok') throw new Error('Only a message that decrypted can be forwarded');
  if (note.trim()) await encryptAndSend(target, { text: note.trim() });
  // The text only: files are not part of this build, so no message carries attachments yet.
  await encryptAndSend(target, { text: entry.result.plaintext }, entry.message.id);
}

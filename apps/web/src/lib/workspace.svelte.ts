/**
 * What the signed-in user can see, kept up to date: their communities, each community's groups,
 * channels and members, their DMs, per-channel unread and mention counts, and who is online.
 *
 * Loaded over REST when the session starts, then kept current by the gateway: `message.created`
 * moves unread counts, `read` (the user's own cursor, from any device) clears them, `presence`
 * says who is online, and membership and structure events (`member.*`, `group.*`, `channel.*`,
 * `community.*`, `dm.created`) reload the part they concern. Read states load once the socket is
 * ready. After a reconnect everything is reloaded, since events sent while the socket was down are
 * not replayed; a hand-over to a new socket (no gap) reloads nothing.
 */
import type { PresenceStatus } from '@chatalot/client';
import { ApiError } from '@chatalot/client';
import type { Message } from '@chatalot/protocol';
import { SvelteMap } from 'svelte/reactivity';
import {
  getCommunity,
  listChannels,
  listCommunities,
  listDms,
  listGroups,
  listMembers,
  markReadRest,
  readStates,
  type Channel,
  type Community,
  type CommunityMember,
  type Dm,
  type Group,
  type ReadStateT,
} from '$lib/api/spaces';
import { describeError } from '$lib/errors';
import { realtime, type ReadyKind } from '$lib/realtime.svelte';
import { session } from '$lib/session.svelte';

export type PublicPresence = 'online' | 'idle' | 'dnd' | 'offline';
/** What the app shows for a person: their public presence, or `invisible` for oneself. */
export type ShownPresence = PublicPresence | 'invisible';

export const PRESENCE_LABEL: Record<ShownPresence, string> = {
  online: 'Online',
  idle: 'Idle',
  dnd: 'Do not disturb',
  offline: 'Offline',
  invisible: 'Invisible',
};

export interface Badge {
  unread: boolean;
  mentions: number;
}

const NO_BADGE: Badge = { unread: false, mentions: 0 };
const LAST_CHANNEL_KEY = 'chatalot.last-channel.';

/** Runs at most `limit` loads at once, so a big account does not trip the server's rate limit. */
class LoadQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      try {
        return await task();
      } catch (err) {
        // Rate limited: wait as long as the server asks, once, then try again.
        if (!(err instanceof ApiError) || err.code !== 'rate_limited') throw err;
        await new Promise((resolve) => setTimeout(resolve, (err.retryAfterSecs ?? 2) * 1000));
        return await task();
      }
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

class Workspace {
  /** Null until the first load. */
  communities = $state<Community[] | null>(null);
  communitiesError = $state<string | null>(null);
  dms = $state<Dm[] | null>(null);
  dmsError = $state<string | null>(null);
  /** Groups by community id. */
  readonly groups = new SvelteMap<string, Group[]>();
  readonly groupsError = new SvelteMap<string, string>();
  /** Channels by group id. */
  readonly channels = new SvelteMap<string, Channel[]>();
  /** Members by community id. */
  readonly members = new SvelteMap<string, CommunityMember[]>();
  readonly membersError = new SvelteMap<string, string>();
  /** Read state by channel id. */
  readonly reads = new SvelteMap<string, ReadStateT>();
  /** Public presence by user id: from member lists (live when loaded), then the gateway's events. */
  readonly presence = new SvelteMap<string, PublicPresence>();
  /** The channel on screen: new messages there count as read. */
  activeChannelId = $state<string | null>(null);
  /** A short notice for the shell to show (e.g. "You were removed from X"). */
  notice = $state<string | null>(null);
  /** The user's own chosen status (null: as in their profile). */
  private ownStatus = $state<PresenceStatus | null>(null);

  private active = false;
  private readonly queue = new LoadQueue(3);
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Messages that arrived while read states were loading, re-applied on top of the answer. */
  private pendingMessages: Message[] | null = null;

  /** Every channel the user can see in communities, by id. */
  readonly channelIndex = $derived.by(() => {
    // Rebuilt whole each time (a derived value), so a plain Map is right here.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const index = new Map<string, Channel>();
    for (const list of this.channels.values()) for (const c of list) index.set(c.id, c);
    return index;
  });

  constructor() {
    realtime.onReady((kind) => this.onReady(kind));
    realtime.on('message', (message) => this.onMessage(message));
    realtime.on('event', (event) => this.onEvent(event));
  }

  get me(): string | undefined {
    return session.user?.id;
  }

  /** The status the user chose: online, idle, dnd or invisible. */
  get myStatus(): PresenceStatus {
    return this.ownStatus ?? session.user?.presence ?? 'online';
  }

  // Lifecycle

  start(): void {
    if (this.active) return;
    this.active = true;
    void this.loadCommunities();
    void this.loadDms();
    // Read states load at the first `ready` (onReady): loaded before the socket is subscribed,
    // they would miss the messages sent in between.
  }

  stop(): void {
    this.active = false;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.communities = null;
    this.communitiesError = null;
    this.dms = null;
    this.dmsError = null;
    this.groups.clear();
    this.groupsError.clear();
    this.channels.clear();
    this.members.clear();
    this.membersError.clear();
    this.reads.clear();
    this.presence.clear();
    this.activeChannelId = null;
    this.ownStatus = null;
    this.pendingMessages = null;
  }

  // Loading

  async loadCommunities(): Promise<void> {
    try {
      const list = await this.queue.run(listCommunities);
      if (!this.active) return;
      this.communities = list;
      this.communitiesError = null;
      const ids = new Set(list.map((c) => c.id));
      for (const id of [...this.groups.keys()]) if (!ids.has(id)) this.forgetCommunity(id);
      await Promise.all(list.map((c) => this.loadGroups(c.id)));
    } catch (err) {
      if (this.active) this.communitiesError = describeError(err).message;
    }
  }

  async reloadCommunity(communityId: string): Promise<void> {
    try {
      const community = await this.queue.run(() => getCommunity(communityId));
      if (!this.active || !this.communities) return;
      this.communities = this.communities.some((c) => c.id === communityId)
        ? this.communities.map((c) => (c.id === communityId ? community : c))
        : [...this.communities, community];
    } catch (err) {
      if (err instanceof ApiError && err.code === 'not_found') this.removeCommunity(communityId);
    }
  }

  async loadGroups(communityId: string): Promise<void> {
    try {
      const list = await this.queue.run(() => listGroups(communityId));
      if (!this.active) return;
      const previous = this.groups.get(communityId) ?? [];
      this.groups.set(communityId, list);
      this.groupsError.delete(communityId);
      const visible = new Set(list.filter((g) => g.joined).map((g) => g.id));
      for (const g of previous) if (!visible.has(g.id)) this.channels.delete(g.id);
      await Promise.all(list.filter((g) => g.joined).map((g) => this.loadChannels(g.id)));
    } catch (err) {
      if (!this.active) return;
      if (err instanceof ApiError && err.code === 'not_found') this.removeCommunity(communityId);
      else this.groupsError.set(communityId, describeError(err).message);
    }
  }

  async loadChannels(groupId: string): Promise<void> {
    try {
      const list = await this.queue.run(() => listChannels(groupId));
      if (this.active)
        this.channels.set(
          groupId,
          [...list].sort((a, b) => a.position - b.position),
        );
    } catch (err) {
      if (this.active && err instanceof ApiError && err.code === 'not_found') this.channels.delete(groupId);
    }
  }

  async loadMembers(communityId: string): Promise<void> {
    try {
      const list = await this.queue.run(() => listMembers(communityId));
      if (!this.active) return;
      this.members.set(communityId, list);
      this.membersError.delete(communityId);
      // The list carries each member's live presence: the starting point events then update.
      for (const m of list) if (m.user_id !== this.me) this.presence.set(m.user_id, m.presence);
    } catch (err) {
      if (this.active) this.membersError.set(communityId, describeError(err).message);
    }
  }

  async loadDms(): Promise<void> {
    try {
      const list = await this.queue.run(listDms);
      if (!this.active) return;
      this.dms = [...list].sort((a, b) => b.updated_at - a.updated_at);
      this.dmsError = null;
    } catch (err) {
      if (this.active) this.dmsError = describeError(err).message;
    }
  }

  async loadReads(): Promise<void> {
    this.pendingMessages ??= [];
    try {
      const list = await this.queue.run(readStates);
      if (!this.active) return;
      const arrived = this.pendingMessages ?? [];
      this.pendingMessages = null;
      this.reads.clear();
      for (const state of list) this.reads.set(state.channel_id, state);
      for (const message of arrived) this.countMessage(message);
      if (this.activeChannelId) this.markRead(this.activeChannelId);
    } catch {
      this.pendingMessages = null;
    }
  }

  /** Reloads something soon, once, however many events asked for it meanwhile. */
  private soon(key: string, load: () => Promise<void>, delayMs = 150): void {
    if (!this.active || this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (this.active) void load();
      }, delayMs),
    );
  }

  private forgetCommunity(communityId: string): void {
    for (const g of this.groups.get(communityId) ?? []) this.channels.delete(g.id);
    this.groups.delete(communityId);
    this.groupsError.delete(communityId);
    this.members.delete(communityId);
  }

  private removeCommunity(communityId: string, notice?: string): void {
    const community = this.communities?.find((c) => c.id === communityId);
    this.forgetCommunity(communityId);
    if (this.communities) this.communities = this.communities.filter((c) => c.id !== communityId);
    if (community && notice) this.notice = notice.replace('{name}', community.name);
  }

  /** Adds (or replaces) a community the user just created or joined, without waiting for a reload. */
  addCommunity(community: Community): void {
    const list = this.communities ?? [];
    this.communities = list.some((c) => c.id === community.id)
      ? list.map((c) => (c.id === community.id ? community : c))
      : [...list, community];
    void this.loadGroups(community.id);
  }

  addDm(dm: Dm): void {
    const list = this.dms ?? [];
    this.dms = [dm, ...list.filter((d) => d.id !== dm.id)];
  }

  // Lookups used by the views

  community(id: string | undefined): Community | undefined {
    return id ? this.communities?.find((c) => c.id === id) : undefined;
  }

  /** The groups of a community the user belongs to, or null while loading. */
  joinedGroups(communityId: string): Group[] | null {
    const list = this.groups.get(communityId);
    return list ? list.filter((g) => g.joined) : null;
  }

  channelsOf(groupId: string): Channel[] | null {
    return this.channels.get(groupId) ?? null;
  }

  /** The first text channel of a community (its first group's #general, usually). */
  firstChannel(communityId: string): Channel | undefined {
    for (const g of this.joinedGroups(communityId) ?? []) {
      const list = this.channels.get(g.id) ?? [];
      const text = list.find((c) => c.kind !== 'voice' && !c.archived) ?? list[0];
      if (text) return text;
    }
    return undefined;
  }

  dm(id: string | undefined): Dm | undefined {
    return id ? this.dms?.find((d) => d.id === id) : undefined;
  }

  badge(channelId: string): Badge {
    const state = this.reads.get(channelId);
    if (!state) return NO_BADGE;
    return { unread: state.unread > 0, mentions: state.mentions };
  }

  communityBadge(communityId: string): Badge {
    let unread = false;
    let mentions = 0;
    for (const g of this.joinedGroups(communityId) ?? []) {
      for (const c of this.channels.get(g.id) ?? []) {
        const b = this.badge(c.id);
        unread ||= b.unread;
        mentions += b.mentions;
      }
    }
    return { unread, mentions };
  }

  /** DMs: every unread message counts as a mention (they are addressed to you). */
  dmBadge(): Badge {
    let unread = false;
    let mentions = 0;
    for (const d of this.dms ?? []) {
      const state = this.reads.get(d.id);
      if (!state) continue;
      unread ||= state.unread > 0;
      mentions += state.unread;
    }
    return { unread, mentions };
  }

  presenceOf(userId: string): ShownPresence {
    if (userId === this.me) {
      if (realtime.state !== 'open') return 'offline';
      return this.myStatus;
    }
    return this.presence.get(userId) ?? 'offline';
  }

  rememberChannel(communityId: string, channelId: string): void {
    try {
      localStorage.setItem(LAST_CHANNEL_KEY + communityId, channelId);
    } catch {
      // Storage blocked: the first channel is used instead.
    }
  }

  lastChannel(communityId: string): string | null {
    try {
      return localStorage.getItem(LAST_CHANNEL_KEY + communityId);
    } catch {
      return null;
    }
  }

  // Read state

  /** Marks a channel read up to its latest message (on screen, so seen). */
  markRead(channelId: string): void {
    const state = this.reads.get(channelId);
    if (!state || (state.read_seq >= state.last_seq && state.unread === 0 && state.mentions === 0)) return;
    this.reads.set(channelId, { ...state, read_seq: state.last_seq, unread: 0, mentions: 0 });
    const seq = state.last_seq;
    const key = `read:${channelId}`;
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        const client = realtime.client;
        const send =
          client && realtime.state === 'open' ? client.markRead(channelId, seq) : markReadRest(channelId, seq);
        send.catch(() => undefined);
      }, 400),
    );
  }

  private countMessage(message: Message): void {
    const state = this.reads.get(message.channel_id) ?? {
      channel_id: message.channel_id,
      last_seq: 0,
      read_seq: 0,
      unread: 0,
      mentions: 0,
    };
    if (message.seq <= state.last_seq) return;
    const next = { ...state, last_seq: message.seq };
    const me = this.me;
    if (message.sender_id !== me && message.deleted_at === null && message.seq > state.read_seq) {
      next.unread += 1;
      if (message.mention_everyone || (me !== undefined && message.mentions.includes(me))) next.mentions += 1;
    }
    this.reads.set(message.channel_id, next);
  }

  // Gateway events

  private onReady(kind: ReadyKind): void {
    if (!this.active || kind === 'handover') return;
    // Presence from before this connection is stale: member lists (reloaded below) carry it
    // again, and events keep it current.
    this.presence.clear();
    for (const id of this.members.keys()) void this.loadMembers(id);
    void this.loadReads();
    if (kind === 'reconnect') {
      // Events sent while the socket was down are not replayed: reload what they would have changed.
      void this.loadCommunities();
      void this.loadDms();
    }
  }

  private onMessage(message: Message): void {
    if (!this.active) return;
    this.pendingMessages?.push(message);
    this.countMessage(message);
    if (
      message.channel_id === this.activeChannelId &&
      typeof document !== 'undefined' &&
      document.visibilityState === 'visible'
    ) {
      this.markRead(message.channel_id);
    }
    if (!this.channelIndex.has(message.channel_id) && !this.dm(message.channel_id)) {
      this.soon('dms', () => this.loadDms());
    }
  }

  private onEvent(event: { type: string; [field: string]: unknown }): void {
    if (!this.active) return;
    const str = (key: string) => (typeof event[key] === 'string' ? (event[key] as string) : undefined);
    const communityId = str('community_id');
    const groupId = str('group_id');
    const channelId = str('channel_id');
    const userId = str('user_id');
    const me = this.me;

    switch (event.type) {
      case 'presence':
        if (userId && isPublicPresence(event.status)) this.onPresence(userId, event.status);
        return;
      case 'read':
        if (userId === me && channelId && typeof event.seq === 'number') this.onOwnRead(channelId, event.seq);
        return;
      case 'dm.created':
        this.soon('dms', () => this.loadDms());
        return;
      case 'community.updated':
        if (communityId) this.soon(`community:${communityId}`, () => this.reloadCommunity(communityId));
        return;
      case 'community.deleted':
        if (communityId) this.removeCommunity(communityId, '{name} was deleted.');
        return;
      case 'group.created':
      case 'group.updated':
      case 'group.deleted':
        if (communityId) this.soon(`groups:${communityId}`, () => this.loadGroups(communityId));
        return;
      case 'channel.created':
      case 'channel.updated':
      case 'channel.deleted':
        if (groupId) this.soon(`channels:${groupId}`, () => this.loadChannels(groupId));
        else if (channelId) this.soon('dms', () => this.loadDms());
        return;
      case 'member.joined':
      case 'member.left':
      case 'member.kicked':
      case 'member.banned':
      case 'member.unbanned':
      case 'member.role_updated':
      case 'member.updated':
        this.onMembership(event.type, { communityId, groupId, channelId, userId });
        return;
      default:
        return;
    }
  }

  private onMembership(
    type: string,
    ids: { communityId?: string; groupId?: string; channelId?: string; userId?: string },
  ): void {
    const { communityId, groupId, channelId, userId } = ids;
    const mine = userId === undefined || userId === this.me;
    if (!communityId) {
      // A DM's membership changed.
      if (channelId) this.soon('dms', () => this.loadDms());
      return;
    }
    if (mine) {
      if (!groupId && (type === 'member.kicked' || type === 'member.banned' || type === 'member.left')) {
        const notice =
          type === 'member.left'
            ? undefined
            : `You were ${type === 'member.banned' ? 'banned' : 'removed'} from {name}.`;
        this.removeCommunity(communityId, notice);
        return;
      }
      if (!groupId && type === 'member.joined') {
        this.soon('communities', () => this.loadCommunities());
      }
      this.soon(`community:${communityId}`, () => this.reloadCommunity(communityId));
      this.soon(`groups:${communityId}`, () => this.loadGroups(communityId));
    } else if (groupId) {
      // Someone joined or left a group: its member count changed.
      this.soon(`groups:${communityId}`, () => this.loadGroups(communityId), 600);
    } else {
      // Someone joined or left the community: its member count changed.
      this.soon(`community:${communityId}`, () => this.reloadCommunity(communityId), 600);
    }
    if (this.members.has(communityId)) this.soon(`members:${communityId}`, () => this.loadMembers(communityId));
  }

  private onOwnRead(channelId: string, seq: number): void {
    const state = this.reads.get(channelId);
    if (!state || seq <= state.read_seq) return;
    if (seq >= state.last_seq) {
      this.reads.set(channelId, { ...state, read_seq: seq, unread: 0, mentions: 0 });
    } else {
      this.reads.set(channelId, { ...state, read_seq: seq });
      this.soon('reads', () => this.loadReads(), 300);
    }
  }

  // Presence

  private onPresence(userId: string, status: PublicPresence): void {
    if (userId === this.me) {
      // Our own announcement (from this or another device). While connected, offline means invisible.
      this.ownStatus = status === 'offline' ? 'invisible' : status;
      return;
    }
    this.presence.set(userId, status);
  }

  /** Changes the user's own status (online, idle, do not disturb, invisible). */
  async setStatus(status: PresenceStatus): Promise<void> {
    this.ownStatus = status;
    if (session.user) session.setUser({ ...session.user, presence: status });
    const client = realtime.client;
    if (client && realtime.state === 'open') {
      await client.setPresence(status);
    } else {
      await session.client.account.updateProfile({ presence: status });
    }
  }
}

function isPublicPresence(value: unknown): value is PublicPresence {
  return value === 'online' || value === 'idle' || value === 'dnd' || value === 'offline';
}

/** The app's one workspace. */
export const workspace = new Workspace();

/**
 * What the global shortcuts do, on the live workspace: the places in sidebar order, stepping
 * through them, marking everything read, and whether the switcher or the help is open.
 */
import { goto } from '$app/navigation';
import { resolve } from '$app/paths';
import { dmTitle } from '$lib/dm';
import { shell } from '$lib/shell.svelte';
import { workspace } from '$lib/workspace.svelte';
import { type PlaceSource, type Stop, step, stops, switcherItems } from './places';
import type { SwitcherItem } from './switcher-search';

/** The workspace as the places module reads it. */
const source: PlaceSource = {
  get communities() {
    return workspace.communities ?? [];
  },
  get dms() {
    return workspace.dms ?? [];
  },
  groups: (communityId) => workspace.joinedGroups(communityId) ?? [],
  channels: (groupId) => workspace.channelsOf(groupId) ?? [],
  badge: (channelId) => workspace.badge(channelId),
  dmTitle,
  communityHref: (communityId) => resolve('/(app)/c/[communityId]', { communityId }),
  channelHref: (communityId, channelId) => resolve('/(app)/c/[communityId]/[channelId]', { communityId, channelId }),
  dmHref: (channelId) => resolve('/(app)/dm/[channelId]', { channelId }),
};

/**
 * Read cursors go out over the socket, whose token bucket allows 10 frames a second: marking
 * dozens of channels at once would use it up (and the user's next message with it), so they are
 * marked a few at a time.
 */
const MARK_BATCH = 5;
const MARK_PACE_MS = 700;

class Shortcuts {
  switcherOpen = $state(false);
  helpOpen = $state(false);
  /** A short confirmation after a shortcut with no visible result of its own. */
  notice = $state<string | null>(null);
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Where focus goes back when the switcher or the help closes. */
  private returnFocus: HTMLElement | null = null;

  openSwitcher(): void {
    this.open('switcherOpen');
  }

  openHelp(): void {
    this.open('helpOpen');
  }

  private open(which: 'switcherOpen' | 'helpOpen'): void {
    this.returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    shell.navOpen = false;
    this.switcherOpen = which === 'switcherOpen';
    this.helpOpen = which === 'helpOpen';
  }

  close(): void {
    this.switcherOpen = false;
    this.helpOpen = false;
    const target = this.returnFocus;
    this.returnFocus = null;
    if (target?.isConnected) requestAnimationFrame(() => target.focus());
  }

  items(): SwitcherItem[] {
    return switcherItems(source);
  }

  /** Goes to the previous/next channel of the current sidebar, or the nearest unread place. */
  step(current: { channelId: string | null; communityId: string | null }, direction: 1 | -1, unread: boolean): boolean {
    const target: Stop | null = step(stops(source), current, direction, unread);
    if (!target) {
      if (unread) this.say('Nothing unread.');
      return false;
    }
    // eslint-disable-next-line svelte/no-navigation-without-resolve -- hrefs come from resolve()
    void goto(target.href);
    return true;
  }

  /** Marks every channel and DM with unread messages read. */
  async markAllRead(): Promise<void> {
    const unread = [...workspace.reads.values()].filter((s) => s.unread > 0 || s.mentions > 0).map((s) => s.channel_id);
    if (unread.length === 0) {
      this.say('Nothing unread.');
      return;
    }
    this.say(`Marked ${unread.length} ${unread.length === 1 ? 'conversation' : 'conversations'} read.`);
    for (let i = 0; i < unread.length; i += MARK_BATCH) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, MARK_PACE_MS));
      for (const channelId of unread.slice(i, i + MARK_BATCH)) workspace.markRead(channelId);
    }
  }

  say(text: string): void {
    this.notice = text;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => (this.notice = null), 3000);
  }
}

/** The app's one shortcut state. */
export const shortcuts = new Shortcuts();

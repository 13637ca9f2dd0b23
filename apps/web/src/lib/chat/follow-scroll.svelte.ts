/**
 * The scrolling of a conversation's message list. It sticks to the bottom only while the reader
 * is there: new messages, late decryptions and a growing composer keep the latest message in
 * view, while a reader who scrolled up stays where they are (`unseen` counts what arrived
 * meanwhile, for the "Jump to latest" button). Older history loads when the top comes near,
 * keeping what the reader looks at in place. The conversation is marked read when its bottom is
 * on screen in a visible tab. Create it while a component initialises (it sets up effects).
 */
import { tick } from 'svelte';
import type { Conversation } from './conversation.svelte';

const STICK_PX = 48;
const OLDER_PX = 600;

export class FollowScroll {
  scroller = $state<HTMLDivElement>();
  content = $state<HTMLDivElement>();
  atBottom = $state(true);
  unseen = $state(0);
  private positioned = false;

  /** `onpositioned` runs once the first page is on screen. */
  constructor(
    private readonly conv: Conversation,
    onpositioned: () => void,
  ) {
    // First paint of the history: at the "NEW MESSAGES" line when there is one, else at the bottom.
    $effect(() => {
      if (this.conv.loading || this.positioned || !this.scroller) return;
      void tick().then(() => {
        const scroller = this.scroller;
        if (!scroller) return;
        this.positioned = true;
        const line = scroller.querySelector('[data-testid="new-messages"]');
        if (line) line.scrollIntoView({ block: 'center' });
        else scroller.scrollTop = scroller.scrollHeight;
        this.measure();
        onpositioned();
      });
    });

    // Content that grows keeps the bottom in view when the reader was there.
    $effect(() => {
      const { scroller, content } = this;
      if (!scroller || !content) return;
      const observer = new ResizeObserver(() => {
        if (this.atBottom) scroller.scrollTop = scroller.scrollHeight;
      });
      observer.observe(content);
      observer.observe(scroller);
      return () => observer.disconnect();
    });

    // History shorter than the screen: read further back as long as the top is in view.
    $effect(() => {
      const { scroller, content } = this;
      if (!scroller || !content || this.conv.loading || this.conv.loadError) return;
      const sentinel = content.querySelector('[data-older-sentinel]');
      if (!sentinel) return;
      const observer = new IntersectionObserver(
        (entries) => {
          if (entries.some((e) => e.isIntersecting) && this.positioned) void this.older();
        },
        { root: scroller, rootMargin: `${OLDER_PX}px 0px 0px 0px` },
      );
      observer.observe(sentinel);
      return () => observer.disconnect();
    });

    // New messages while the bottom is in view: read.
    $effect(() => {
      void this.conv.entries.length;
      this.markIfSeen();
    });
  }

  measure(): void {
    const scroller = this.scroller;
    if (!scroller) return;
    this.atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= STICK_PX;
    if (this.atBottom) {
      this.unseen = 0;
      this.markIfSeen();
    }
    if (scroller.scrollTop < OLDER_PX && this.positioned) void this.older();
  }

  stickToBottom(): void {
    if (!this.scroller) return;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.atBottom = true;
    this.unseen = 0;
  }

  async older(): Promise<void> {
    const anchor = { height: -1, top: 0 };
    await this.conv.loadOlder(() => {
      if (!this.scroller) return;
      anchor.height = this.scroller.scrollHeight;
      anchor.top = this.scroller.scrollTop;
    });
    const scroller = this.scroller;
    if (anchor.height < 0 || !scroller) return;
    await tick();
    // Keep what the reader was looking at in place while older messages appear above it.
    if (!this.atBottom) scroller.scrollTop = anchor.top + (scroller.scrollHeight - anchor.height);
    // Still near the top (a short page): read on.
    this.measure();
  }

  markIfSeen(): void {
    if (this.atBottom && document.visibilityState === 'visible' && !this.conv.loading) this.conv.markRead();
  }
}

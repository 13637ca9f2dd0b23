/**
 * UI state of the app shell: the navigation drawer on narrow screens, the member list, and the
 * one dialog open at a time (dialogs are rendered once, by AppShell, whoever opens them).
 */

/** A dialog and what it is about. */
export type ShellDialog =
  | { kind: 'add-community'; mode?: 'choose' | 'create' | 'join' }
  | { kind: 'invite'; communityId: string }
  | { kind: 'create-group'; communityId: string }
  | { kind: 'browse-groups'; communityId: string }
  | { kind: 'create-channel'; communityId: string; groupId: string }
  | { kind: 'new-dm' }
  | { kind: 'member'; communityId: string; userId: string }
  | { kind: 'welcome'; communityId: string }
  | { kind: 'leave-community'; communityId: string }
  | { kind: 'leave-group'; communityId: string; groupId: string };

const MEMBERS_KEY = 'chatalot.member-list';

class Shell {
  /** The navigation drawer (communities and channels) on narrow screens. */
  navOpen = $state(false);
  /** The member list as a column on wide screens (remembered). */
  membersPinned = $state(true);
  /** The member list as a drawer on narrower screens. */
  membersOverlay = $state(false);
  /** Wide enough for the member list as a column (≥ 1280 px). */
  wide = $state(true);
  /** Narrow enough for the navigation drawer (< 768 px). */
  narrow = $state(false);
  dialog = $state<ShellDialog | null>(null);
  /** Where focus goes back when the dialog closes. */
  private returnFocus: HTMLElement | null = null;

  /** Follows the screen size; returns the cleanup. */
  init(): () => void {
    try {
      this.membersPinned = localStorage.getItem(MEMBERS_KEY) !== 'hidden';
    } catch {
      // Storage blocked: shown by default.
    }
    const wide = window.matchMedia('(min-width: 1280px)');
    const narrow = window.matchMedia('(max-width: 767.98px)');
    const update = () => {
      this.wide = wide.matches;
      this.narrow = narrow.matches;
      if (!this.narrow) this.navOpen = false;
      if (this.wide) this.membersOverlay = false;
    };
    update();
    wide.addEventListener('change', update);
    narrow.addEventListener('change', update);
    return () => {
      wide.removeEventListener('change', update);
      narrow.removeEventListener('change', update);
    };
  }

  /** Whether the member list shows (as a column or a drawer, by screen width). */
  get membersShown(): boolean {
    return this.wide ? this.membersPinned : this.membersOverlay;
  }

  toggleMembers(): void {
    if (this.wide) {
      this.membersPinned = !this.membersPinned;
      try {
        localStorage.setItem(MEMBERS_KEY, this.membersPinned ? 'shown' : 'hidden');
      } catch {
        // Storage blocked: the choice lasts for this page.
      }
    } else {
      this.membersOverlay = !this.membersOverlay;
      if (this.membersOverlay) this.navOpen = false;
    }
  }

  open(dialog: ShellDialog): void {
    this.returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.navOpen = false;
    this.dialog = dialog;
  }

  closeDialog(): void {
    this.dialog = null;
    const target = this.returnFocus;
    this.returnFocus = null;
    if (target?.isConnected) requestAnimationFrame(() => target.focus());
  }
}

/** The app shell's one UI state. */
export const shell = new Shell();

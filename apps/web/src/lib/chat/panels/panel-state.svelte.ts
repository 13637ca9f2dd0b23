/**
 * Which side panel of the chat view is open: a message's thread or the channel's pins. Shared
 * by the conversation (which renders the panel) and the page header (whose pin button opens the
 * pins), and tied to one conversation: opening another conversation shows none.
 */
export type ChatPanelView = { kind: 'thread'; rootId: string } | { kind: 'pins' };

class ChatPanel {
  channelId = $state<string | null>(null);
  view = $state.raw<ChatPanelView | null>(null);

  /** The panel open in `channelId`, if any. */
  of(channelId: string): ChatPanelView | null {
    return this.channelId === channelId ? this.view : null;
  }

  openThread(channelId: string, rootId: string): void {
    this.channelId = channelId;
    this.view = { kind: 'thread', rootId };
  }

  togglePins(channelId: string): void {
    if (this.of(channelId)?.kind === 'pins') this.close();
    else {
      this.channelId = channelId;
      this.view = { kind: 'pins' };
    }
  }

  close(): void {
    this.view = null;
    this.channelId = null;
  }
}

export const chatPanel = new ChatPanel();

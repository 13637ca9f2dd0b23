/**
 * After a search result opened its conversation: brings the message into view and marks it
 * for a moment, once the chat view has it on screen. The chat view loads the newest page of
 * history, so an older message may not be there; then the conversation is simply open.
 */
const WAIT_MS = 6000;
/** Lets the chat view finish its own first scroll (to the newest message) before ours. */
const SETTLE_MS = 250;

function find(messageId: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(messageId)}"]`);
}

function show(el: HTMLElement): void {
  const reduce = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  el.scrollIntoView({ block: 'center', behavior: reduce ? 'auto' : 'smooth' });
  el.dataset.searchHit = 'true';
  el.animate(
    [
      {
        boxShadow: 'inset 4px 0 0 var(--color-accent)',
        backgroundColor: 'color-mix(in oklab, var(--color-accent) 18%, transparent)',
      },
      { boxShadow: 'inset 4px 0 0 transparent', backgroundColor: 'transparent' },
    ],
    { duration: 2400, easing: 'ease-out' },
  );
  setTimeout(() => delete el.dataset.searchHit, 2400);
}

/** Waits (a few seconds at most) for the message to be on screen, then shows it. */
export function jumpToMessage(messageId: string): void {
  const deadline = Date.now() + WAIT_MS;
  const tick = () => {
    const el = find(messageId);
    if (el) {
      setTimeout(() => {
        const settled = find(messageId);
        if (settled) show(settled);
      }, SETTLE_MS);
      return;
    }
    if (Date.now() < deadline) setTimeout(tick, 100);
  };
  tick();
}

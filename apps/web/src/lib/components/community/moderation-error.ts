import { ApiError } from '@chatalot/client';
import { describeError } from '$lib/errors';

/**
 * A refused moderation or settings change in words, with the server's error code after it, so a
 * moderator can tell "you may not" (forbidden) from "it changed meanwhile" (conflict) or "they
 * are gone" (not_found). The server decides; the UI only hides what it expects to be refused.
 */
export function moderationError(err: unknown): string {
  if (!(err instanceof ApiError)) return describeError(err).message;
  const text = (() => {
    switch (err.code) {
      case 'forbidden':
        return err.message || 'You are not allowed to do that.';
      case 'not_found':
        return err.message || 'It is gone: reload the page.';
      case 'conflict':
        return err.message || 'It changed meanwhile: reload and try again.';
      default:
        return describeError(err).message;
    }
  })();
  return err.code === 'network_error' ? text : `${text} (${err.code})`;
}

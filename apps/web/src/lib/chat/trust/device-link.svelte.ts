/**
 * This browser's side of linking (it has no identity key yet): opens a provisioning session,
 * shows its code, waits for another of the user's devices to approve, then starts the E2E
 * session with the handed-over key (see @chatalot/client e2e/provisioning.ts).
 */
import { ApiError, DeviceLink, isE2EError, KeysApi, ProvisioningApi, retryRateLimited } from '@chatalot/client';
import { describeError } from '$lib/errors';
import { session } from '$lib/session.svelte';
import { e2e } from '../e2e-session.svelte';
import { browserName } from './device-name';

export type LinkStatus = 'idle' | 'opening' | 'waiting' | 'linking' | 'expired' | 'error';

function explain(err: unknown): string {
  if (err instanceof ApiError && err.code === 'not_found') return 'The code expired before it was approved.';
  if (err instanceof ApiError && err.code === 'limit_reached')
    return 'Too many linking codes are open. Wait ten minutes, then try again.';
  if (isE2EError(err) || (err as { code?: unknown } | null)?.code === 'decrypt_failed')
    return 'What arrived could not be opened: it was not sealed for this browser. Try again with a new code.';
  return describeError(err).message;
}

class NewDeviceLink {
  status = $state<LinkStatus>('idle');
  code = $state<string | null>(null);
  expiresAt = $state<number | null>(null);
  error = $state<string | null>(null);
  private link: DeviceLink | null = null;
  private abort: AbortController | null = null;

  /** Opens a session and waits (in the background) for the approval. */
  async start(): Promise<void> {
    const userId = session.user?.id;
    if (!userId || this.status === 'opening' || this.status === 'waiting') return;
    // An expired or failed earlier attempt: close its session first.
    this.link?.cancel().catch(() => undefined);
    this.link = null;
    this.status = 'opening';
    this.error = null;
    try {
      const api = retryRateLimited(session.client);
      const link = await DeviceLink.open({
        api: new ProvisioningApi(api),
        keys: new KeysApi(api),
        userId,
        deviceName: browserName(),
      });
      this.link = link;
      this.code = link.code;
      this.expiresAt = link.expiresAt;
      this.status = 'waiting';
      void this.wait(link);
    } catch (err) {
      this.status = 'error';
      this.error = explain(err);
    }
  }

  private async wait(link: DeviceLink): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    const expiry = setTimeout(() => abort.abort(), Math.max(0, link.expiresAt - Date.now()));
    try {
      const identity = await link.wait(abort.signal);
      if (this.link !== link) return;
      if (!identity) {
        if (abort.signal.aborted && this.status === 'waiting') this.status = 'expired';
        return;
      }
      // The server session is closed: from here on, leaving the screen cancels nothing.
      this.link = null;
      this.status = 'linking';
      await this.register(identity);
    } catch (err) {
      if (this.link !== link) return;
      this.status = err instanceof ApiError && err.code === 'not_found' ? 'expired' : 'error';
      this.error = explain(err);
    } finally {
      clearTimeout(expiry);
    }
  }

  private async register(identity: Parameters<typeof e2e.startLinked>[0]): Promise<void> {
    try {
      await e2e.startLinked(identity);
      this.reset();
    } catch (err) {
      // The chat view shows the link screen again: say why.
      this.status = 'error';
      this.error = explain(err);
    }
  }

  /** Leaves the link screen: the session on the server ends too. */
  async cancel(): Promise<void> {
    const link = this.link;
    if (!link) return;
    this.reset();
    await link.cancel().catch(() => undefined);
  }

  private reset(): void {
    this.abort?.abort();
    this.abort = null;
    this.link = null;
    this.code = null;
    this.expiresAt = null;
    this.status = 'idle';
    this.error = null;
  }
}

/** The one link attempt of this browser. */
export const newDeviceLink = new NewDeviceLink();

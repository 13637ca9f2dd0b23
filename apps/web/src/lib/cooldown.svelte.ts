import { ApiError } from '@chatalot/client';

/** Counts down a Retry-After wait so a form can stay disabled until the server accepts again. */
export class Cooldown {
  remaining = $state(0);
  private timer: ReturnType<typeof setInterval> | undefined;

  /** Starts the wait when `err` is a rate-limit answer; returns whether it was one. */
  startFrom(err: unknown): boolean {
    if (!(err instanceof ApiError) || err.code !== 'rate_limited') return false;
    this.start(err.retryAfterSecs ?? 5);
    return true;
  }

  start(seconds: number): void {
    this.stop();
    this.remaining = Math.ceil(seconds);
    this.timer = setInterval(() => {
      this.remaining = Math.max(0, this.remaining - 1);
      if (this.remaining === 0) this.stop();
    }, 1_000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

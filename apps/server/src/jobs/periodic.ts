/**
 * Runs `task` now and then every `intervalMs`, never overlapping itself; errors are reported
 * and the schedule continues. The timer does not keep the process alive. Returns a stop
 * function that waits for a run in progress.
 */
export function runPeriodically(
  task: () => Promise<void>,
  intervalMs: number,
  onError: (err: unknown) => void,
): () => Promise<void> {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped || running) return;
    running = task()
      .catch(onError)
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}

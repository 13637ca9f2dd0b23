/**
 * Long jobs (reading 100k messages, building their index) run in slices: after about `budgetMs`
 * of work the job waits for a macrotask, so the page keeps answering clicks and key presses.
 */
export class Slicer {
  private started = performance.now();
  private count = 0;

  constructor(private readonly budgetMs: number) {}

  /** Call often; checks the clock every `every` calls and yields when the slice is used up. */
  async tick(every = 64): Promise<void> {
    if (++this.count % every !== 0) return;
    if (performance.now() - this.started < this.budgetMs) return;
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    this.started = performance.now();
  }
}

import { describe, expect, it } from 'vitest';
import { runPeriodically } from './periodic.js';

describe('runPeriodically', () => {
  it('runs at once, keeps running after a failure, never overlaps, and stops', async () => {
    let runs = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    const errors: unknown[] = [];
    const stop = runPeriodically(
      async () => {
        runs++;
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await new Promise((r) => setTimeout(r, 15));
        concurrent--;
        if (runs === 1) throw new Error('first run fails');
      },
      5,
      (err) => errors.push(err),
    );
    await expect.poll(() => runs, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    await stop();
    const after = runs;
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(after);
    expect(maxConcurrent).toBe(1);
    expect(errors).toHaveLength(1);
  });
});

import { spawnNode } from './procs.js';

/**
 * Runs `node --import tsx <script> <json args>` pinned to `cpus`, waits for its line
 * `result {json}` and returns the parsed value; the child is stopped in every case.
 */
export async function childResult<T>(
  name: string,
  script: string,
  args: object,
  cpus: string | undefined,
  timeoutMs: number,
): Promise<T> {
  const child = spawnNode(name, ['--import', 'tsx', script, JSON.stringify(args)], { env: {}, cpus });
  try {
    const [, json] = await child.waitFor(/^result (.*)$/m, timeoutMs);
    return JSON.parse(json!) as T;
  } finally {
    await child.stop();
  }
}

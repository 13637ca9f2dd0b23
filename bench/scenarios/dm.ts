// dm: many 1:1 DMs at once (500 pairs), Poisson senders, the same ladder and figures as the
// channels scenario (scenarios/channels.ts). Each message reaches both people, the sender's
// own socket too; bodies go as `pairwise` like a client's Double Ratchet ciphertext.
import type { LadderPlan } from '../lib/event-ladder.js';
import type { RunningTarget } from '../targets/target.js';
import { type RoomsResult, runRoomsLadder } from './channels.js';

export function runDm(target: RunningTarget, options: LadderPlan & { pairs: number }): Promise<RoomsResult> {
  process.stdout.write(`  dm: ${options.pairs} pairs\n`);
  return runRoomsLadder(
    target,
    `dm ${options.pairs} pairs`,
    () => target.createDmPairs(options.pairs),
    'pairwise',
    options,
  );
}

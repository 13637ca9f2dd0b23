/** Regenerates constructions.json: `npx tsx packages/crypto/test/vectors/generate.ts`. */
import { writeFileSync } from 'node:fs';
import { computeVectors } from './compute.js';

const out = new URL('./constructions.json', import.meta.url);
writeFileSync(out, JSON.stringify(await computeVectors(), null, 2) + '\n');
console.log(`wrote ${out.pathname}`);

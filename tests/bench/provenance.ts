/**
 * The provenance check at scale: a results JSON of N numbers (100k, 1M, 3M) is indexed and a paper
 * checked against it; build and check times printed, not asserted. `npx tsx tests/bench/provenance.ts`.
 */
import os from 'node:os';
import { IntegrityChecker } from '../../activities/integrity/check/engine.js';

function results(n: number): string {
  const values: string[] = new Array(n);
  let x = 0.123456789;
  for (let i = 0; i < n; i++) {
    x = (x * 9301 + 0.49297) % 1;
    values[i] = (x * 3).toFixed(6);
  }
  return `{"accuracy": 0.9133, "loss": [${values.join(',')}]}\n`;
}

// A paper of 200 stated numbers, half of them invented.
const paper = Array.from({ length: 200 }, (_, i) => `Seed ${i % 9} reached ${i % 2 ? '91.33%' : `${(400 + i).toFixed(2)}`} accuracy.`).join('\n');

const checkProvenance = (checker: IntegrityChecker) => checker.check({ 'paper.md': `## Results\n\n${paper}` });

console.log(`machine: ${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, node ${process.version}`);
for (const n of [100_000, 1_000_000, 3_000_000]) {
  const content = results(n);
  const t0 = performance.now();
  const checker = new IntegrityChecker([{ file: 'results/metrics.json', content, as: 'measured' }]);
  const t1 = performance.now();
  const report = checkProvenance(checker);
  const t2 = performance.now();
  console.log(
    `provenance: ${n.toLocaleString('en')} numbers (${(content.length / 1e6).toFixed(1)} MB): indexed in ${((t1 - t0) / 1000).toFixed(2)} s, ` +
      `${report.results} result claims checked in ${((t2 - t1) / 1000).toFixed(2)} s (first query sorts) — ${report.flagged} flagged`,
  );
}

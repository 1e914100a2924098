/**
 * Measures each competition's baseline (starter/methods/) and reference method (reference/methods/)
 * through the scorer, on the hidden test split and on dev, and writes the task's reference.json.
 * The only writer of reference.json: its numbers are measured, never typed in.
 *
 *   npm run competitions:measure [-- --task <name>[,<name>...]] [--draws 5]
 *
 * Each benchmark draws its own data from a secret, so the numbers are means over `--draws` fresh
 * draws, and the tolerance covers how far one draw may lie from them.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ScoreSplit } from '../../common/competition.js';
import { listCompetitions, loadCompetition, type CompetitionTask } from '../../activities/competition/index.js';
import { openScratchRun, removeScratchNow } from '../../activities/competition/submission.js';
import type { CompetitionReferenceFile } from '../../activities/competition/catalog.js';
import { sandboxBackendFromEnv, type SandboxBackend } from '../../activities/sandbox/index.js';
import { onInterrupt } from '../lib/interrupt.js';

/** A re-measurement may drift by at least this share of the baseline-to-reference gap (BLAS and library versions). */
const TOLERANCE_OF_GAP = 0.02;
/**
 * ... and as far as one new draw may lie from the mean of `n` measured ones: the two-sided 99.9%
 * prediction interval, t(0.9995, n-1) standard deviations times sqrt(1 + 1/n). With 5 draws the
 * standard deviation itself is uncertain, so t is large (8.61); a fixed 4 sd was exceeded by a
 * sales-forecast draw in CI.
 */
const T_9995: Record<number, number> = { 1: 636.6, 2: 31.6, 3: 12.92, 4: 8.61, 5: 6.869, 6: 5.959, 7: 5.408, 8: 5.041, 9: 4.781, 10: 4.587, 15: 4.073, 20: 3.85, 30: 3.646 };
function predictionSds(draws: number): number {
  const df = Math.max(1, draws - 1);
  const known = Object.keys(T_9995).map(Number).filter((k) => k <= df);
  const t = df > 30 ? 3.291 : T_9995[Math.max(...known)];
  return t * Math.sqrt(1 + 1 / draws);
}
/** Data draws measured per task. */
const DEFAULT_DRAWS = 5;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { task: { type: 'string' }, draws: { type: 'string' } } });
  const draws = values.draws === undefined ? DEFAULT_DRAWS : Number(values.draws);
  if (!Number.isInteger(draws) || draws < 1 || draws > 50) throw new Error(`--draws must be a whole number from 1 to 50, got "${values.draws}"`);
  const names = values.task ? values.task.split(',').map((s) => s.trim()).filter(Boolean) : (await listCompetitions()).map((c) => c.name);
  const backend = sandboxBackendFromEnv();
  // Each task is measured in a scratch run (its folders in a temporary folder, not in .lab/), removed even on Ctrl-C.
  const stop = onInterrupt(() => {
    removeScratchNow();
    process.exit(130);
  });
  let failed = 0;
  try {
    for (const name of names) {
      try {
        const task = await loadCompetition(name, { requireReference: false });
        if (task.spec.harness !== 'predictions') {
          console.log(`${name}: skipped (imported MLRC-Bench task: it carries MLRC-Bench's published numbers)`);
          continue;
        }
        const reference = await measure(task, backend, draws);
        console.log(`${name}: baseline ${reference.baseline.score}, reference ${reference.reference.score} (${reference.reference.method}), dev ${reference.dev!.baseline} / ${reference.dev!.reference}`);
      } catch (err) {
        failed += 1;
        console.error(`${name}: ${(err as Error).message}`);
      }
    }
  } finally {
    stop();
  }
  process.exitCode = failed ? 1 : 0;
}

async function measure(task: CompetitionTask, backend: SandboxBackend, draws: number): Promise<CompetitionReferenceFile> {
  const referenceMethods = path.join(task.folder, 'reference', 'methods');
  const folders = { baseline: path.join(task.folder, 'starter', 'methods'), reference: referenceMethods };
  const scores: Record<'baseline' | 'reference', Record<ScoreSplit, number[]>> = { baseline: { dev: [], test: [] }, reference: { dev: [], test: [] } };
  // Each scratch run draws its data from a fresh secret, as each benchmark does: the numbers are means over draws.
  for (let draw = 1; draw <= draws; draw += 1) {
    const run = await openScratchRun(task, { backend });
    try {
      for (const which of ['baseline', 'reference'] as const) {
        for (const split of ['test', 'dev'] as const) {
          const raw = await run.score(folders[which], { split, againstGap: false });
          if (raw.status !== 'scored' || raw.score === undefined) throw new Error(`the ${which} method was ${raw.status} on ${split}: ${raw.reason}\n${raw.log}`);
          scores[which][split].push(raw.score);
          console.log(`  ${task.name} draw ${draw}/${draws} ${which} ${split}: ${raw.score} in ${raw.runtimeSeconds} s`);
        }
      }
    } finally {
      await run.close();
    }
  }
  const test = { baseline: mean(scores.baseline.test), reference: mean(scores.reference.test) };
  const gap = Math.abs(test.reference - test.baseline);
  const spread = Math.max(sd(scores.baseline.test), sd(scores.reference.test));
  const reference: CompetitionReferenceFile = {
    baseline: { score: test.baseline, method: await docLine(path.join(task.folder, 'starter', 'methods', 'baseline.py')) },
    reference: { score: test.reference, method: await referenceName(referenceMethods), kind: 'strong known method (not a human score)' },
    tolerance: Number(Math.max(gap * TOLERANCE_OF_GAP, predictionSds(draws) * spread).toPrecision(3)),
    measured: {
      at: new Date().toISOString(),
      command: `npm run competitions:measure -- --task ${task.name}${draws === DEFAULT_DRAWS ? '' : ` --draws ${draws}`}`,
      machine: machine(backend),
      draws,
    },
    dev: { baseline: mean(scores.baseline.dev), reference: mean(scores.reference.dev) },
  };
  await fs.writeFile(path.join(task.folder, 'reference.json'), `${JSON.stringify(reference, null, 2)}\n`);
  await loadCompetition(task.name); // the file just written must pass the catalog's checks
  return reference;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (0 for one draw). */
function sd(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** A Python module's docstring on one line, without its final period: the method's name. */
async function docLine(file: string): Promise<string> {
  const doc = /^\s*"""([\s\S]*?)"""/.exec(await fs.readFile(file, 'utf8'))?.[1];
  if (!doc?.trim()) throw new Error(`${file} has no docstring to name the method by`);
  return doc.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
}

/** The reference method's name: the docstring of the module its __init__.py imports build from. */
async function referenceName(dir: string): Promise<string> {
  const init = await fs.readFile(path.join(dir, '__init__.py'), 'utf8');
  const mod = /from\s+\.(\w+)\s+import\s+build/.exec(init)?.[1];
  if (!mod) throw new Error(`${dir}/__init__.py must import build from a module beside it`);
  return docLine(path.join(dir, `${mod}.py`));
}

function machine(backend: SandboxBackend): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'} (${cpus.length} cores), ${os.platform()} ${os.release()}, Node ${process.version}, sandbox ${backend.name} with ${process.env.LAB_SANDBOX_CPUS || 1} CPU thread(s)`;
}

await main();

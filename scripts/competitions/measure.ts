/**
 * Measures each competition's baseline (starter/methods/) and reference method (reference/methods/)
 * through the scorer, on the hidden test split and on dev, and writes the task's reference.json.
 * The only writer of reference.json: its numbers are measured, never typed in.
 *
 *   npm run competitions:measure [-- --task <name>[,<name>...]]
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

/** A re-measurement may drift by this share of the baseline-to-reference gap (BLAS and library versions). */
const TOLERANCE_OF_GAP = 0.02;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { task: { type: 'string' } } });
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
        const reference = await measure(task, backend);
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

async function measure(task: CompetitionTask, backend: SandboxBackend): Promise<CompetitionReferenceFile> {
  const referenceMethods = path.join(task.folder, 'reference', 'methods');
  const scores: Record<'baseline' | 'reference', Record<ScoreSplit, number>> = { baseline: { dev: NaN, test: NaN }, reference: { dev: NaN, test: NaN } };
  const folders = { baseline: path.join(task.folder, 'starter', 'methods'), reference: referenceMethods };
  // One scratch run: both methods scored on the same prepared data.
  const run = await openScratchRun(task, { backend });
  try {
    for (const which of ['baseline', 'reference'] as const) {
      for (const split of ['test', 'dev'] as const) {
        const raw = await run.score(folders[which], { split });
        if (raw.status !== 'scored' || raw.score === undefined) throw new Error(`the ${which} method was ${raw.status} on ${split}: ${raw.reason}\n${raw.log}`);
        scores[which][split] = raw.score;
        console.log(`  ${task.name} ${which} ${split}: ${raw.score} in ${raw.runtimeSeconds} s`);
      }
    }
  } finally {
    await run.close();
  }
  const gap = Math.abs(scores.reference.test - scores.baseline.test);
  const reference: CompetitionReferenceFile = {
    baseline: { score: scores.baseline.test, method: await docLine(path.join(task.folder, 'starter', 'methods', 'baseline.py')) },
    reference: { score: scores.reference.test, method: await referenceName(referenceMethods), kind: 'strong known method (not a human score)' },
    tolerance: Number((gap * TOLERANCE_OF_GAP).toPrecision(3)),
    measured: { at: new Date().toISOString(), command: `npm run competitions:measure -- --task ${task.name}`, machine: machine(backend) },
    dev: { baseline: scores.baseline.dev, reference: scores.reference.dev },
  };
  await fs.writeFile(path.join(task.folder, 'reference.json'), `${JSON.stringify(reference, null, 2)}\n`);
  await loadCompetition(task.name); // the file just written must pass the catalog's checks
  return reference;
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

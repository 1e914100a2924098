/**
 * The gap a submission is measured against, on its own data. Each benchmark draws its data from a
 * secret of its own, and one draw's baseline can differ from another's by a good part of the gap
 * (digits-rotated: 0.78 to 0.84 over five draws, for a gap of 0.10). So the first scoring of a split
 * under a data key also scores the task's own baseline and reference methods on that same data, and
 * every run with that key is compared with them. reference.json's means over draws remain the
 * fallback (and what `lab compete --list` shows) when a measurement cannot be made.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ScoreSplit } from '../../common/competition.js';
import { writeFileAtomic } from '../atomicFile.js';
import type { ExecOptions, SandboxBackend } from '../sandbox/index.js';
import type { CompetitionTask } from './catalog.js';
import { hiddenRoot } from './paths.js';
import { readManifest } from './prepare.js';
import { scoreRun } from './score.js';

export interface Gap {
  baseline: number;
  reference: number;
  /** `draw`: both measured on this run's data; `reference.json`: the committed means over draws. */
  source: 'draw' | 'reference.json';
}

const drawFileSchema = z.object({ baseline: z.number(), reference: z.number(), measuredAt: z.string() });

/** The committed means of reference.json for a split (dev has its own pair). */
export function committedGap(task: CompetitionTask, split: ScoreSplit): Gap | undefined {
  const ref = task.reference;
  if (!ref) return undefined;
  const pair = split === 'dev' && ref.dev ? ref.dev : { baseline: ref.baseline.score, reference: ref.reference.score };
  return { ...pair, source: 'reference.json' };
}

/**
 * The gap on this run's data draw, measured on first use per data key, task and split; the committed
 * means when the run has no data key (an imported MLRC task: its numbers are published ones) or the
 * task's own methods could not be scored (said in `note`).
 */
export async function gapForRun(opts: { runId: string; task: CompetitionTask; split: ScoreSplit; backend: SandboxBackend; exec?: ExecOptions }): Promise<{ gap?: Gap; note?: string }> {
  const committed = committedGap(opts.task, opts.split);
  const manifest = await readManifest(opts.runId);
  if (!manifest?.dataKey || manifest.harness !== 'predictions' || !committed) return { gap: committed };
  const file = path.join(hiddenRoot(), 'draws', manifest.dataKey, `${opts.task.name}.${opts.split}.json`);
  const cached = await fs.readFile(file, 'utf8').then(
    (text) => drawFileSchema.safeParse(JSON.parse(text)),
    () => undefined,
  );
  if (cached?.success) return { gap: { baseline: cached.data.baseline, reference: cached.data.reference, source: 'draw' } };

  const scoreTrusted = (dir: string) => scoreRun({ runId: opts.runId, task: opts.task, split: opts.split, mode: 'full', backend: opts.backend, exec: opts.exec, methodsDir: dir });
  const baseline = await scoreTrusted(path.join(opts.task.folder, 'starter', 'methods'));
  const reference = await scoreTrusted(path.join(opts.task.folder, 'reference', 'methods'));
  const higher = opts.task.spec.metric.direction === 'higher';
  const ordered = baseline.score !== undefined && reference.score !== undefined && (higher ? reference.score > baseline.score : reference.score < baseline.score);
  if (baseline.status !== 'scored' || reference.status !== 'scored' || !ordered) {
    const why =
      baseline.status !== 'scored' ? `the baseline was ${baseline.status} (${baseline.reason})` : reference.status !== 'scored' ? `the reference was ${reference.status} (${reference.reason})` : 'the reference did not beat the baseline';
    return { gap: committed, note: `the baseline and reference could not be measured on this data draw (${why}): compared with reference.json's means instead` };
  }
  const measured = { baseline: baseline.score!, reference: reference.score!, measuredAt: new Date().toISOString() };
  // Same data, same methods, same result: a concurrent measurement of the same key writes the same numbers.
  await writeFileAtomic(file, `${JSON.stringify(measured, null, 2)}\n`, { folderMode: 0o700 });
  return { gap: { baseline: measured.baseline, reference: measured.reference, source: 'draw' } };
}

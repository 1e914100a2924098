/**
 * One submission scored and set against the gap: the scorer's raw outcome, and the SubmissionScore
 * that compares it with the baseline and reference measured on the same data draw (reference.json's
 * means when they cannot be). Shared by the scorer activity and `lab compete score` / the audit.
 */
import { withImprovement, type SubmissionScore } from '../../common/competition.js';
import { gapForRun } from './draws.js';
import { scoreRun, type RawScore, type ScoreRunOptions } from './score.js';

/** The scorer's own options, less what assessing decides itself (the honest score for the decoy rule). */
export type AssessOptions = Pick<ScoreRunOptions, 'runId' | 'task' | 'split' | 'mode' | 'backend' | 'exec'>;

/** `score` is absent only for a task with no reference.json yet (`npm run competitions:measure` scores those raw). */
export async function assessSubmission(opts: AssessOptions): Promise<{ raw: RawScore; score?: Omit<SubmissionScore, 'log'> }> {
  const measured = await gapForRun(opts);
  const gap = measured.gap;
  const raw = await scoreRun({ ...opts, ...(gap ? { honestScore: gap.baseline } : {}) });
  if (!gap) return { raw };
  raw.log += `\ncompared with the baseline ${gap.baseline} and reference ${gap.reference} ${gap.source === 'draw' ? 'measured on this data draw' : "of reference.json (means over draws)"}${measured.note ? `: ${measured.note}` : ''}`;
  const score = withImprovement({
    task: opts.task.name,
    split: opts.split,
    status: raw.status,
    ...(raw.reason ? { reason: raw.reason } : {}),
    metric: { name: opts.task.spec.metric.name, direction: opts.task.spec.metric.direction },
    ...(raw.score !== undefined && raw.status === 'scored' ? { score: raw.score } : {}),
    baseline: gap.baseline,
    reference: gap.reference,
    gapSource: gap.source,
    runtimeSeconds: raw.runtimeSeconds,
    linesChanged: raw.linesChanged,
  });
  return { raw, score };
}

/**
 * One benchmark item: the agent's work on one task (a research run, a competition run, or, when
 * judging existing outputs, nothing), then each of its reviews, all as child workflows. It never
 * fails for a failed child: it returns what failed and why, so the benchmark counts it and goes on.
 * The benchmark runs this function in its own workflow; benchmarks started before `bench-items-inline`
 * ran it as a child workflow per item, and those histories still replay through the registered workflow.
 */
import { ApplicationFailure, executeChild, ParentClosePolicy } from '@temporalio/workflow';
import type { BenchItem, BenchMode } from '../common/benchmark.js';
import { budgetAfter, splitBudget } from '../common/budget.js';
import { innermostMessage } from '../common/failures.js';
import { documentsOfRun, type ReviewInput, type ReviewKind, type ReviewSubject } from '../common/reviews.js';
import type { ArtifactRef, Budget, ResearchRunInput, ResearchRunResult, StageName, Usage } from '../common/schemas.js';
import { addUsage, ZERO_USAGE } from '../common/schemas.js';
import type { ExperimentLimits } from '../common/limits.js';
import { LAB_BENCH, LAB_KIND, LAB_MODEL, LAB_STATUS, LAB_TASK } from '../common/searchAttributes.js';
import { STAGES } from '../common/stages.js';
import { competitionRun } from './competitionRun.js';
import { researchRun } from './researchRun.js';
import { review } from './review.js';

export interface BenchItemInput {
  benchId: string;
  item: BenchItem;
  /** The item's research or competition run id; reviews are `<runId>.review-<kind>`. */
  runId: string;
  mode: BenchMode;
  stages: StageName[];
  reviews: ReviewKind[];
  judges: string[];
  stageTimeouts: { startToCloseSeconds: number; heartbeatSeconds: number; maxAttempts: number };
  experiment?: ExperimentLimits;
  /** Judge-only: where the outputs to review are. */
  outputs?: ReviewSubject;
  budget: Budget;
}

export interface BenchItemFailure {
  /** `research`, `competition` or `review:<kind>`. */
  part: string;
  reason: string;
  workflowId: string;
}

export interface BenchItemResult {
  key: string;
  spent: Usage;
  /** Empty when the item finished: its run and every review completed. */
  failures: BenchItemFailure[];
}

export async function benchItem(input: BenchItemInput): Promise<BenchItemResult> {
  const { item, runId } = input;
  const searchAttributes = (kind: string) => [
    { key: LAB_BENCH, value: input.benchId },
    { key: LAB_KIND, value: kind },
    { key: LAB_TASK, value: item.task },
    { key: LAB_MODEL, value: item.agent },
  ];
  let spent: Usage = ZERO_USAGE;
  const failed = (part: string, err: unknown, workflowId: string): BenchItemResult => ({
    key: item.key,
    spent,
    failures: [{ part, reason: typeof err === 'string' ? err : innermostMessage(err).slice(0, 500), workflowId }],
  });

  let subject: ReviewSubject;
  if (input.mode === 'judge-only') {
    if (!input.outputs) throw ApplicationFailure.nonRetryable('a judge-only item needs its outputs', 'InvalidInput');
    subject = input.outputs;
  } else if (input.mode === 'competition') {
    try {
      const result = await executeChild(competitionRun, {
        workflowId: runId,
        args: [{ task: item.task, model: item.agent, budget: input.budget, dataKey: input.benchId, ...(input.experiment ? { limits: input.experiment } : {}) }],
        typedSearchAttributes: searchAttributes('competition'),
        parentClosePolicy: ParentClosePolicy.TERMINATE,
      });
      spent = result.usage;
      // A submission that failed or broke the rules is a measured outcome; its reviews still run.
      subject = { source: 'run', runId, documents: result.documents };
    } catch (err) {
      return failed('competition', err, runId);
    }
  } else {
    const lastStage = input.mode === 'end-to-end' ? STAGES[STAGES.length - 1] : input.stages[input.stages.length - 1];
    const runInput: ResearchRunInput = {
      task: { name: item.task, ref: item.taskRef },
      model: item.agent,
      budget: input.budget,
      stageTimeouts: input.stageTimeouts,
      // The benchmark checked every model once before its first item.
      skipPreflight: true,
      ...(input.experiment ? { experiment: input.experiment } : {}),
      ...(lastStage !== 'paper' ? { stopAfter: lastStage } : {}),
    };
    try {
      const result = await executeChild(researchRun, {
        workflowId: runId,
        args: [runInput],
        typedSearchAttributes: searchAttributes('research'),
        parentClosePolicy: ParentClosePolicy.TERMINATE,
      });
      spent = result.totals;
      if (result.status !== 'completed') return failed('research', result.reason ?? result.status, runId);
      subject = { source: 'run', runId, documents: documentsOfRun(item.taskRef, outputsOf(result)) };
    } catch (err) {
      return failed('research', err, runId);
    }
  }

  // MLRC-Bench's rubric is judged with and without the code, to see what reading the code changes.
  const reviews = input.reviews.flatMap((kind): Array<{ kind: ReviewKind; withCode?: boolean }> =>
    kind === 'mlrc' ? [{ kind, withCode: true }, { kind, withCode: false }] : [{ kind }],
  );
  const perReview = splitBudget(budgetAfter(input.budget, spent), reviews.length);
  const failures: BenchItemFailure[] = [];
  await Promise.all(
    reviews.map(async ({ kind, withCode }) => {
      const reviewId = `${runId}.review-${kind}${withCode === false ? '-no-code' : ''}`;
      const reviewInput: ReviewInput = {
        kind,
        ...(withCode !== undefined ? { withCode } : {}),
        subject,
        judges: input.judges,
        task: item.taskRef,
        budget: perReview,
        timeouts: input.stageTimeouts,
        bench: { benchId: input.benchId, task: item.task, agent: item.agent },
      };
      try {
        const result = await executeChild(review, {
          workflowId: reviewId,
          args: [{ ...reviewInput, summaryLocally: true, attributesAtStart: true }],
          // Everything the review would upsert at its start (its kind, the benchmark, task and agent, running).
          typedSearchAttributes: [...searchAttributes(`review:${kind}`), { key: LAB_STATUS, value: 'running' }],
          parentClosePolicy: ParentClosePolicy.TERMINATE,
        });
        spent = addUsage(spent, result.usage);
      } catch (err) {
        failures.push({ part: `review:${kind}`, reason: innermostMessage(err).slice(0, 500), workflowId: reviewId });
      }
    }),
  );
  return { key: item.key, spent, failures };
}

function outputsOf(result: ResearchRunResult) {
  const outputs: Parameters<typeof documentsOfRun>[1] = {};
  for (const stage of STAGES) {
    const artifact: ArtifactRef | undefined = result.artifacts[stage];
    if (artifact) outputs[stage] = { artifact, extra: stage === 'experiment' ? result.experimentFiles : [] };
  }
  return outputs;
}


/**
 * One review (MLR-Judge) of one piece of research, of one kind: every judge scores it on the
 * kind's rubric, in parallel, each on its provider's LLM queue. The judges' full answers are
 * artifacts; the workflow keeps the numbers, their mean and how far the judges disagree.
 *
 * A judge that fails (twice-invalid answer, provider down) fails the whole review, with every
 * judge's outcome in the failure: a mean over fewer judges than asked for is never reported. A
 * failed judge's calls still count in the review's usage. Each review writes into its own attempt
 * folder; a failed one never replaces the latest good review (see writeReviewSummary).
 */
import { ApplicationFailure, proxyActivities, proxyLocalActivities, setHandler, upsertSearchAttributes, workflowInfo, ActivityFailure } from '@temporalio/workflow';
import type { JudgeActivities } from '../activities/judge/index.js';
import { splitBudget } from '../common/budget.js';
import { NON_RETRYABLE_STAGE_ERRORS } from '../common/errorTypes.js';
import { parseModelSpec } from '../common/modelSpec.js';
import { llmQueueFor, TASK_QUEUES } from '../common/queues.js';
import {
  combineVerdicts,
  reviewAttemptName,
  reviewInputSchema,
  type JudgeFailure,
  type JudgeFailureDetails,
  type JudgeVerdict,
  type ReviewConfig,
  type ReviewDocuments,
  type ReviewInput,
  type ReviewResult,
} from '../common/reviews.js';
import { addUsage, ZERO_USAGE } from '../common/schemas.js';
import { LAB_BENCH, LAB_KIND, LAB_MODEL, LAB_STATUS, LAB_TASK } from '../common/searchAttributes.js';
import { reviewProgressQuery, type ReviewProgress } from './definitions.js';

/** Kinds whose judge may read the code; the others never see it. */
const CODE_AWARE_KINDS = new Set(['end_to_end', 'hallucination', 'mlrc', 'experiment']);

/**
 * How a review workflow runs, chosen by whoever starts it. A flag in the input rather than a patch
 * marker: reviews recorded before lack it and replay as they ran, and it costs no event, while a
 * patch adds a marker and a TemporalChangeVersion search-attribute upsert (a visibility write) to
 * every review, about what the local activity saves.
 */
export interface ReviewShape {
  /** Write the summary with a local activity (see below). */
  summaryLocally?: boolean;
  /** The starter set every search attribute, LabStatus `running` included: no upsert at the start. */
  attributesAtStart?: boolean;
}

export async function review(raw: ReviewInput & ReviewShape): Promise<ReviewResult> {
  const summaryLocally = raw.summaryLocally === true;
  const input = parseInput(raw);
  const reviewId = workflowInfo().workflowId;
  const progress: ReviewProgress = {
    kind: input.kind,
    status: 'collecting',
    judges: input.judges.map((judge) => ({ judge, status: 'pending' })),
  };
  setHandler(reviewProgressQuery, () => progress);
  // Each upsert is an event and a visibility write; a starter that set them all saves this one.
  if (raw.attributesAtStart !== true) upsertSearchAttributes([
    { key: LAB_KIND, value: `review:${input.kind}` },
    { key: LAB_STATUS, value: 'running' },
    // In a benchmark, LabModel names the agent under review (set by the benchmark), so the UI filters by it.
    ...(input.bench
      ? [{ key: LAB_BENCH, value: input.bench.benchId }, { key: LAB_TASK, value: input.bench.task }, { key: LAB_MODEL, value: input.bench.agent }]
      : [{ key: LAB_MODEL, value: input.judges.join(' ') }]),
  ]);

  const research = proxyActivities<JudgeActivities>({
    taskQueue: TASK_QUEUES.research,
    // Short: these only read files and write the store; one lost with its worker is retried soon.
    startToCloseTimeout: '1m',
    retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidInput'] },
  });
  const subject = input.subject;
  let documents: ReviewDocuments;
  let storeId: string;
  if (subject.source === 'run') {
    documents = subject.documents;
    storeId = subject.runId;
  } else {
    documents = await research.collectReviewDocuments({ reviewId, subject, kind: input.kind });
    storeId = reviewId;
  }
  if (input.task && !documents.task) documents = { ...documents, task: input.task };
  const withCode = CODE_AWARE_KINDS.has(input.kind) ? (input.withCode ?? documents.code.length > 0) : false;

  progress.status = 'judging';
  // Judges run at once, so each may spend only its share of the review's budget.
  const share = input.budget.usd === undefined && input.budget.tokens === undefined ? undefined : splitBudget(input.budget, input.judges.length);
  const outcomes = await Promise.allSettled(
    input.judges.map(async (judge, i) => {
      progress.judges[i].status = 'running';
      try {
        const verdict = await judgeActivity(input, judge).judgeReview({ reviewId, storeId, kind: input.kind, withCode, judge, documents, budgetLeft: share });
        progress.judges[i] = { judge, status: 'done', overall: verdict.overall };
        return verdict;
      } catch (err) {
        progress.judges[i] = { judge, status: 'failed', error: failureMessage(err) };
        throw err;
      }
    }),
  );
  const verdicts: JudgeVerdict[] = [];
  const failures: JudgeFailure[] = [];
  outcomes.forEach((o, i) => (o.status === 'fulfilled' ? verdicts.push(o.value) : failures.push(judgeFailure(input.judges[i], o.reason))));

  const result: ReviewResult = {
    reviewId,
    kind: input.kind,
    rubricVersion: verdicts[0]?.rubricVersion ?? failures.find((f) => f.rubricVersion)?.rubricVersion ?? 'unknown',
    status: failures.length ? 'failed' : 'completed',
    subject: subject.source === 'run' ? subject.runId : (subject.name ?? subject.path.split('/').filter(Boolean).pop() ?? subject.path),
    ...(CODE_AWARE_KINDS.has(input.kind) ? { withCode } : {}),
    verdicts,
    failures,
    ...(failures.length ? {} : combineVerdicts(verdicts)),
    // Failed judges' calls were paid for too.
    usage: [...verdicts.map((v) => v.usage), ...failures.flatMap((f) => (f.usage ? [f.usage] : []))].reduce(addUsage, ZERO_USAGE),
    ...(input.bench ? { bench: input.bench } : {}),
    attempt: reviewAttemptName(storeId, reviewId),
  };
  // The summary is bookkeeping (one small store write) that needs no queue of its own: as a local
  // activity it runs inside the workflow task that saw the last judge finish, which saves a workflow
  // task, an activity task and two events per review.
  const summaryWriter = summaryLocally ? localResearch().writeReviewSummary : research.writeReviewSummary;
  result.summary = await summaryWriter({ storeId, result });
  progress.status = result.status;
  upsertSearchAttributes([{ key: LAB_STATUS, value: result.status }]);
  if (failures.length) {
    // The judge's own message names it already; name it once.
    const who = failures.map((f) => (f.error.includes(f.judge) ? f.error : `${f.judge}: ${f.error}`)).join('; ');
    throw ApplicationFailure.nonRetryable(`${failures.length} of ${input.judges.length} judge(s) gave no valid ${input.kind} review: ${who}`, 'ReviewFailed', result);
  }
  return result;
}

/** writeReviewSummary on the workflow's own worker (the research pool, which holds the store). */
function localResearch() {
  return proxyLocalActivities<JudgeActivities>({
    startToCloseTimeout: '1m',
    retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidInput'] },
  });
}

function judgeActivity(input: ReviewConfig, judge: string) {
  return proxyActivities<JudgeActivities>({
    // One queue per provider, so a sweep's judges share each provider's rate caps with the agents.
    taskQueue: llmQueueFor(parseModelSpec(judge).provider),
    startToCloseTimeout: `${input.timeouts.startToCloseSeconds}s`,
    heartbeatTimeout: `${input.timeouts.heartbeatSeconds}s`,
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '2m',
      maximumAttempts: input.timeouts.maxAttempts,
      nonRetryableErrorTypes: [...NON_RETRYABLE_STAGE_ERRORS, 'InvalidInput'],
    },
    summary: `${input.kind} review by ${judge}`,
  });
}

/** A failed judge: its message and, when its activity said, what it spent and on which rubric. */
function judgeFailure(judge: string, err: unknown): JudgeFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as Partial<JudgeFailureDetails> | undefined) : undefined;
  return {
    judge,
    error: failureMessage(err),
    ...(details?.usage ? { usage: details.usage } : {}),
    ...(typeof details?.rubricVersion === 'string' ? { rubricVersion: details.rubricVersion } : {}),
  };
}

function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return (cause as Error | undefined)?.message ?? String(err);
}

function parseInput(raw: ReviewInput): ReviewConfig {
  const parsed = reviewInputSchema
    .superRefine((value, ctx) => {
      for (const judge of value.judges) {
        try {
          parseModelSpec(judge);
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: ['judges'], message: (err as Error).message });
        }
      }
    })
    .safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
    throw ApplicationFailure.nonRetryable(`invalid review input: ${issues}`, 'InvalidInput');
  }
  return parsed.data;
}

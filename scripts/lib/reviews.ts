/**
 * Client-side review operations for `lab judge`: find what a run of ours wrote (from its input and
 * memo, no worker needed), start one review workflow per kind, and read their outcomes.
 */
import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { TASK_QUEUES } from '../../common/queues.js';
import { documentsOfRun, type ReviewDocuments, type ReviewInput, type ReviewKind, type ReviewResult } from '../../common/reviews.js';
import type { ResearchRunInput, RunMemo } from '../../common/schemas.js';
import { taskRefOfRun } from './runs.js';
import { LAB_KIND, LAB_MODEL, LAB_STATUS } from '../../common/searchAttributes.js';
import { review } from '../../workflows/review.js';
import { CliError, explainNotFound } from './client.js';
import { rootMessage } from './runs.js';

/** The documents a run of ours produced: its task (from its input) and its finished stages (from its memo). */
export async function documentsOfRunId(client: Client, runId: string): Promise<ReviewDocuments> {
  const handle = client.workflow.getHandle(runId);
  const d = await handle.describe().catch((err) => explainNotFound(err, runId));
  if (d.type !== 'researchRun') throw new CliError(`"${runId}" is a ${d.type} workflow, not a research run (see \`lab list\`)`, 2);
  const history = await handle.fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload?.data) throw new CliError(`run "${runId}" has no readable input`);
  const input = JSON.parse(Buffer.from(payload.data).toString('utf8')) as ResearchRunInput;
  const memo = ((await d.memo) ?? {}) as Partial<RunMemo>;
  const completed = memo.completed ?? {};
  if (!Object.keys(completed).length) throw new CliError(`run "${runId}" has no finished stage to review yet`, 2);
  const task = taskRefOfRun(runId, input);
  return documentsOfRun({ ...task, mediaType: task.mediaType ?? 'text/markdown' }, completed);
}

export interface StartedReview {
  reviewId: string;
  kind: ReviewKind;
}

/** Starts a review workflow; its id names the subject and the kind, plus a short random part (a subject may be judged again). */
export async function startReview(client: Client, subjectName: string, input: ReviewInput): Promise<StartedReview> {
  const reviewId = `${subjectName.slice(0, 120)}.review-${input.kind}${input.withCode === false ? '-no-code' : ''}-${randomBytes(2).toString('hex')}`;
  await client.workflow.start(review, {
    taskQueue: TASK_QUEUES.research,
    workflowId: reviewId,
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    args: [input],
    typedSearchAttributes: [
      { key: LAB_KIND, value: `review:${input.kind}` },
      { key: LAB_MODEL, value: input.judges.join(' ') },
      { key: LAB_STATUS, value: 'running' },
    ],
    staticSummary: `${input.kind} review of ${subjectName} by ${input.judges.join(', ')}`,
  });
  return { reviewId, kind: input.kind };
}

export type ReviewOutcome = { reviewId: string; kind: ReviewKind; result?: ReviewResult; error?: string };

/** Waits for a review; a failed one gives its reason (and, when judges answered, their verdicts). */
export async function awaitReview(client: Client, started: StartedReview): Promise<ReviewOutcome> {
  try {
    const result = (await client.workflow.getHandle(started.reviewId).result()) as ReviewResult;
    return { ...started, result };
  } catch (err) {
    const details = err instanceof WorkflowFailedError ? ((err.cause as { details?: unknown[] } | undefined)?.details?.[0] as ReviewResult | undefined) : undefined;
    return { ...started, ...(details?.verdicts ? { result: details } : {}), error: rootMessage(err) };
  }
}

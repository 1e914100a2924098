/**
 * Stand-ins for the `benchmark` workflow, for `lab report` and `lab bench status` tests that need a
 * benchmark in a given state without running agents: one still running (one item reviewed, the rest
 * in flight; it answers the progress query), and one whose every item failed. Their children carry
 * the search attributes the real benchmark's children carry, so the CLI reads them the same way.
 */
import { ApplicationFailure, condition, executeChild, setHandler, workflowInfo } from '@temporalio/workflow';
import type { BenchFailure, BenchProgress, BenchResult } from '../../common/benchmark.js';
import type { ReviewResult } from '../../common/reviews.js';
import { LAB_BENCH, LAB_KIND, LAB_MODEL, LAB_TASK } from '../../common/searchAttributes.js';
import { benchProgressQuery } from '../../workflows/definitions.js';

export interface FakeBenchInput {
  state: 'running' | 'all-failed';
  agents: string[];
}

const ZERO = { llmCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };

function childAttributes(benchId: string, kind: string, task: string, agent: string) {
  return [
    { key: LAB_BENCH, value: benchId },
    { key: LAB_KIND, value: kind },
    { key: LAB_TASK, value: task },
    { key: LAB_MODEL, value: agent },
  ];
}

export async function benchmark(input: FakeBenchInput): Promise<BenchResult> {
  const benchId = workflowInfo().workflowId;
  if (input.state === 'running') {
    const progress: BenchProgress = {
      benchId, mode: 'stepwise', status: 'running', total: 4, done: 1, failed: 0, skipped: 0, running: 3,
      inFlight: ['t2/a', 't3/a', 't4/a'], spent: ZERO, budget: {}, startedAt: new Date(0).toISOString(), executions: 1, failures: [],
    } as BenchProgress;
    setHandler(benchProgressQuery, () => progress);
    // The one finished item: its review is what a partial report can show.
    await executeChild(review, {
      workflowId: `${benchId}.t1.review-idea`,
      args: [input.agents[0]],
      typedSearchAttributes: childAttributes(benchId, 'review:idea', 't1', input.agents[0]),
    });
    await condition(() => false);
  }
  const failures: BenchFailure[] = [];
  for (const [i, agent] of input.agents.entries()) {
    const workflowId = `${benchId}.t${i + 1}`;
    await executeChild(researchRun, { workflowId, typedSearchAttributes: childAttributes(benchId, 'research', `t${i + 1}`, agent) }).catch(() => undefined);
    failures.push({ key: `t${i + 1}/${agent}`, task: `t${i + 1}`, agent, part: 'research', reason: 'no model answered', workflowId });
  }
  return { benchId, total: input.agents.length, done: 0, failed: input.agents.length, skipped: 0, spent: ZERO, failures };
}

export async function review(judge: string): Promise<ReviewResult> {
  return {
    reviewId: workflowInfo().workflowId,
    kind: 'idea',
    rubricVersion: 'v1',
    status: 'completed',
    subject: 't1',
    verdicts: [{ judge, model: judge, rubricVersion: 'v1', scores: { OverallAssessment: 7, Novelty: 6 }, overall: 7 }],
    failures: [],
  } as unknown as ReviewResult;
}

export async function researchRun(): Promise<never> {
  throw ApplicationFailure.nonRetryable('no model answered');
}

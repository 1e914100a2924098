import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { BenchProgress } from '../common/benchmark.js';
import type { ReviewKind } from '../common/reviews.js';
import type { ReviewDecision, ReviewOutcome, RunProgress } from '../common/schemas.js';

/** Human gate decision: approve, revise (with feedback) or reject the stage waiting for review. */
export const reviewUpdate = defineUpdate<ReviewOutcome, [ReviewDecision]>('review');

/** Stage states, timings, LLM usage and the pending gate. */
export const progressQuery = defineQuery<RunProgress>('progress');

export interface ReviewProgress {
  kind: ReviewKind;
  status: 'collecting' | 'judging' | 'completed' | 'failed';
  judges: Array<{ judge: string; status: 'pending' | 'running' | 'done' | 'failed'; overall?: number; error?: string }>;
}

/** A review's judges and where each stands. */
export const reviewProgressQuery = defineQuery<ReviewProgress>('reviewProgress');

/** A benchmark's counts, spend and failures so far. */
export const benchProgressQuery = defineQuery<BenchProgress>('benchProgress');

import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { BenchProgress } from '../common/benchmark.js';
import type { ReviewKind } from '../common/reviews.js';
import type { ReviewDecision, ReviewOutcome, RunProgress } from '../common/schemas.js';
import type { StageName } from '../common/stages.js';

/**
 * The gate a decision answers, as the CLI or a page showed it: the stage and how many revisions
 * it had been through (0: its first version). A decision naming a gate that is no longer open is
 * refused, so it can never land on a gate its sender did not see.
 */
export interface GateRef {
  stage: StageName;
  /** Omitted: any version of that stage. */
  revision?: number;
}

/** A decision and, optionally (older clients send none), the gate it answers. */
export type GateDecision = ReviewDecision & { gate?: GateRef };

/** Human gate decision: approve, revise (with feedback) or reject the stage waiting for review. */
export const reviewUpdate = defineUpdate<ReviewOutcome, [GateDecision]>('review');

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

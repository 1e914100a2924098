import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ReviewDecision, ReviewOutcome, RunProgress } from '../common/schemas.js';

/** Human gate decision: approve, revise (with feedback) or reject the stage waiting for review. */
export const reviewUpdate = defineUpdate<ReviewOutcome, [ReviewDecision]>('review');

/** Stage states, timings, LLM usage and the pending gate. */
export const progressQuery = defineQuery<RunProgress>('progress');

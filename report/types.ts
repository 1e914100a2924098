/**
 * What the leaderboard is computed from: one judge's scores of one output, whichever way it was
 * stored (a review workflow of ours, or MLR-Bench's published review JSON files). Pure types.
 */
import type { ReviewKind } from '../common/reviews.js';

export interface ReviewRecord {
  kind: ReviewKind;
  /** Variant of the kind, e.g. `no_code` for an end-to-end or MLRC review judged without the code. */
  variant?: string;
  task: string;
  /** The agent model (or agent name) whose output was judged. */
  agent: string;
  /** The judge model. */
  judge: string;
  /** Scores by the rubric's dimension names (OverallAssessment, Overall, Confidence, ...). */
  scores: Record<string, number>;
  hasHallucination?: boolean;
  /** Where the record came from: a file path relative to the folder read, or a review id. */
  source: string;
  /** The run whose output was judged, when known (to set judges beside objective scores). */
  runId?: string;
}

/** A competition run's objective score on the hidden test split (MLRC-Bench style). */
export interface ObjectiveRecord {
  task: string;
  agent: string;
  runId: string;
  status: 'scored' | 'failed' | 'invalid';
  reason?: string;
  metric: string;
  direction: 'higher' | 'lower';
  score?: number;
  baseline: number;
  reference: number;
  /** Percent of the baseline-to-reference gap closed. */
  relativeImprovement?: number;
  success: boolean;
  runtimeSeconds: number;
  linesChanged: number;
}

/** Cost of one research run of a benchmark, for cost and tokens per task. */
export interface RunCostRecord {
  task: string;
  agent: string;
  status: string;
  llmCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** A benchmark item that did not finish, with the reason it gave. */
export interface ItemFailure {
  task: string;
  agent: string;
  /** Which part failed: the research run or a review of it. */
  part: string;
  reason: string;
}

/** A review file that could not be used (bad JSON, no scores, outside the layout): skipped and listed. */
export interface UnreadableFile {
  /** Path relative to the folder read. */
  source: string;
  reason: string;
}

/**
 * How a benchmark stood when it was reported. A running one gives a partial report (what is done so
 * far); one whose every item failed, or that was stopped, is not reported as if it had completed.
 */
export interface ReportState {
  state: 'running' | 'completed' | 'failed' | 'stopped';
  /** One line for the head of the report, e.g. `partial: the benchmark is still running; 1 of 4 items finished`. */
  note: string;
}

/** Everything `lab report` needs; built from a folder of reviews or from a benchmark's workflows. */
export interface ReportInput {
  title: string;
  /** Set for a benchmark of ours: where it stood when read. */
  state?: ReportState;
  records: ReviewRecord[];
  runs: RunCostRecord[];
  failures: ItemFailure[];
  /** Files skipped while reading a folder of reviews. */
  unreadable?: UnreadableFile[];
  /** Competition runs' objective scores. */
  objective?: ObjectiveRecord[];
  /**
   * Set when the reviews are MLR-Bench's own (same tasks, models and judges as the paper): only
   * then do its published numbers sit beside the computed ones. Our own benchmarks' agents and
   * judges differ, so a comparison would mislead.
   */
  comparePublished?: boolean;
}

/**
 * Objective scores of competition runs beside the judges (MLRC-Bench's comparison): per task and
 * agent the best run and the mean ± standard error over runs, per agent the share of tasks with a
 * success, and how well each MLRC rubric dimension tracks the measured improvement. Pure.
 */
import { SUCCESS_MARGIN_PERCENT } from '../common/competition.js';
import { mean, pearson, standardError } from './stats.js';
import type { ObjectiveRecord, ReviewRecord } from './types.js';

export interface ObjectiveTaskSummary {
  agent: string;
  task: string;
  metric: string;
  direction: 'higher' | 'lower';
  baseline: number;
  reference: number;
  runs: number;
  scored: number;
  failed: number;
  invalid: number;
  /** Best relative improvement over the scored runs (MLRC-Bench reports the best). */
  bestImprovement?: number;
  bestScore?: number;
  /** Mean over all runs; a failed or invalid run counts as no improvement (0). */
  meanImprovement: number;
  standardError?: number;
  successes: number;
}

export interface ObjectiveAgentSummary {
  agent: string;
  tasks: number;
  /** Mean over tasks of each task's best relative improvement (tasks with no scored run count 0). */
  meanBestImprovement: number;
  /** Tasks where at least one run closed SUCCESS_MARGIN_PERCENT of the gap. */
  tasksSucceeded: number;
  runs: number;
  meanRuntimeSeconds: number;
  meanLinesChanged: number;
}

export interface JudgeMetricCorrelation {
  /** `code` or `no_code`: whether the judges saw the code. */
  variant: string;
  dimension: string;
  /** Runs with both a scored objective result and judge scores. */
  n: number;
  pearson?: number;
  spearman?: number;
}

export function objectiveByTask(records: ObjectiveRecord[]): ObjectiveTaskSummary[] {
  const groups = new Map<string, ObjectiveRecord[]>();
  for (const r of records) groups.set(`${r.agent}\u0000${r.task}`, [...(groups.get(`${r.agent}\u0000${r.task}`) ?? []), r]);
  return [...groups.values()].map((runs) => {
    const scored = runs.filter((r) => r.status === 'scored' && r.relativeImprovement !== undefined);
    const best = [...scored].sort((a, b) => b.relativeImprovement! - a.relativeImprovement!)[0];
    const improvements = runs.map((r) => (r.status === 'scored' ? (r.relativeImprovement ?? 0) : 0));
    const first = runs[0];
    return {
      agent: first.agent,
      task: first.task,
      metric: first.metric,
      direction: first.direction,
      baseline: first.baseline,
      reference: first.reference,
      runs: runs.length,
      scored: scored.length,
      failed: runs.filter((r) => r.status === 'failed').length,
      invalid: runs.filter((r) => r.status === 'invalid').length,
      bestImprovement: best?.relativeImprovement,
      bestScore: best?.score,
      meanImprovement: mean(improvements),
      standardError: standardError(improvements),
      successes: runs.filter((r) => r.success).length,
    };
  });
}

export function objectiveByAgent(records: ObjectiveRecord[]): ObjectiveAgentSummary[] {
  const tasks = objectiveByTask(records);
  return [...new Set(records.map((r) => r.agent))].map((agent) => {
    const mine = tasks.filter((t) => t.agent === agent);
    const runs = records.filter((r) => r.agent === agent);
    return {
      agent,
      tasks: mine.length,
      meanBestImprovement: mean(mine.map((t) => t.bestImprovement ?? 0)),
      tasksSucceeded: mine.filter((t) => (t.bestImprovement ?? -Infinity) >= SUCCESS_MARGIN_PERCENT).length,
      runs: runs.length,
      meanRuntimeSeconds: mean(runs.map((r) => r.runtimeSeconds)),
      meanLinesChanged: mean(runs.map((r) => r.linesChanged)),
    };
  });
}

/**
 * For each MLRC dimension (with and without the code): the judges' mean score of a run against
 * its measured relative improvement, over the runs that were scored.
 */
export function judgesVersusMetric(objective: ObjectiveRecord[], reviews: ReviewRecord[]): JudgeMetricCorrelation[] {
  const improvement = new Map(objective.filter((o) => o.status === 'scored' && o.relativeImprovement !== undefined).map((o) => [o.runId, o.relativeImprovement!]));
  const mlrc = reviews.filter((r) => r.kind === 'mlrc' && r.runId && improvement.has(r.runId));
  const out: JudgeMetricCorrelation[] = [];
  for (const variant of [...new Set(mlrc.map((r) => r.variant ?? 'code'))].sort()) {
    const ofVariant = mlrc.filter((r) => (r.variant ?? 'code') === variant);
    for (const dimension of [...new Set(ofVariant.flatMap((r) => Object.keys(r.scores)))].sort()) {
      const perRun = new Map<string, number[]>();
      for (const r of ofVariant) if (typeof r.scores[dimension] === 'number') perRun.set(r.runId!, [...(perRun.get(r.runId!) ?? []), r.scores[dimension]]);
      const runs = [...perRun.keys()];
      const xs = runs.map((id) => improvement.get(id)!);
      const ys = runs.map((id) => mean(perRun.get(id)!));
      out.push({ variant, dimension, n: runs.length, pearson: pearson(xs, ys), spearman: spearman(xs, ys) });
    }
  }
  return out;
}

/** Spearman's ρ: Pearson's r of the ranks (ties get their mean rank). */
export function spearman(xs: number[], ys: number[]): number | undefined {
  return pearson(ranks(xs), ranks(ys));
}

function ranks(values: number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1].v === order[start].v) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) out[order[k].i] = rank;
    start = end + 1;
  }
  return out;
}

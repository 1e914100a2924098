/** Objective scores in the report: best and mean over runs, success, and the judges against the metric. Pure. */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { relativeImprovement, summariseRuns, withImprovement } from '../common/competition.js';
import { judgesVersusMetric, objectiveByAgent, objectiveByTask, spearman } from '../report/objective.js';
import type { ObjectiveRecord, ReviewRecord } from '../report/types.js';
import { writeReport } from '../report/writeReport.js';

const base = { agent: 'agent-a', metric: 'rmse', direction: 'lower' as const, baseline: 10, reference: 6, runtimeSeconds: 2, linesChanged: 4 };
function run(task: string, runId: string, status: ObjectiveRecord['status'], score?: number): ObjectiveRecord {
  const ri = score === undefined ? undefined : relativeImprovement(score, base.baseline, base.reference);
  return { ...base, task, runId, status, score, relativeImprovement: status === 'scored' ? ri : undefined, success: status === 'scored' && ri! >= 5 };
}

const objective: ObjectiveRecord[] = [
  run('t1', 'r1', 'scored', 9), // 25%
  run('t1', 'r2', 'scored', 8), // 50%
  run('t1', 'r3', 'failed'),
  run('t2', 'r4', 'invalid'),
  run('t2', 'r5', 'scored', 9.9), // 2.5%: not a success
];

describe('relative improvement', () => {
  it('is sign-aware: lower-is-better improvements are positive, regressions negative', () => {
    expect(relativeImprovement(8, 10, 6)).toBeCloseTo(50);
    expect(relativeImprovement(11, 10, 6)).toBeCloseTo(-25);
    expect(relativeImprovement(0.9, 0.8, 1.0)).toBeCloseTo(50);
    expect(() => relativeImprovement(1, 2, 2)).toThrow(/no gap/);
  });

  it('marks success at 5% of the gap and leaves failed runs without a score', () => {
    const common = { task: 't', split: 'test' as const, metric: { name: 'acc', direction: 'higher' as const }, baseline: 0.8, reference: 1, runtimeSeconds: 1, linesChanged: 0 };
    expect(withImprovement({ ...common, status: 'scored', score: 0.811 })).toMatchObject({ success: true, relativeImprovement: 5.5 });
    expect(withImprovement({ ...common, status: 'scored', score: 0.809 }).success).toBe(false);
    expect(withImprovement({ ...common, status: 'failed', reason: 'crashed' })).toEqual({ ...common, status: 'failed', reason: 'crashed', success: false });
    const summary = summariseRuns([withImprovement({ ...common, status: 'scored', score: 0.9 }), withImprovement({ ...common, status: 'failed' })]);
    expect(summary).toMatchObject({ n: 2, mean: 25, successes: 1 });
    expect(summary.best?.relativeImprovement).toBe(50);
  });
});

describe('objective tables', () => {
  it('reports the best run per task and the mean over all runs, failures counting as no improvement', () => {
    const [t1, t2] = objectiveByTask(objective).sort((a, b) => a.task.localeCompare(b.task));
    expect(t1).toMatchObject({ runs: 3, scored: 2, failed: 1, bestImprovement: 50, bestScore: 8, successes: 2 });
    expect(t1.meanImprovement).toBeCloseTo((25 + 50 + 0) / 3);
    expect(t2).toMatchObject({ runs: 2, invalid: 1, successes: 0 });
    expect(t2.bestImprovement).toBeCloseTo(2.5);
    const [agent] = objectiveByAgent(objective);
    expect(agent.meanBestImprovement).toBeCloseTo((50 + 2.5) / 2);
    expect(agent.tasksSucceeded).toBe(1);
  });

  it('computes Spearman with tied ranks', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1);
    expect(spearman([1, 1, 2, 3], [1, 2, 3, 4])).toBeCloseTo(0.9487, 3);
  });

  it('sets each MLRC dimension beside the measured improvement of the same runs, per variant', () => {
    const review = (runId: string, judge: string, validity: number, variant?: string): ReviewRecord => ({
      kind: 'mlrc', ...(variant ? { variant } : {}), task: 't1', agent: 'agent-a', judge, scores: { Validity: validity, Clarity: 3 }, source: `${runId}.review-mlrc`, runId,
    });
    const records = [review('r1', 'j1', 2), review('r1', 'j2', 4), review('r2', 'j1', 5), review('r2', 'j2', 5), review('r5', 'j1', 1), review('r1', 'j1', 5, 'no_code')];
    const correlations = judgesVersusMetric(objective, records);
    const validity = correlations.find((c) => c.variant === 'code' && c.dimension === 'Validity')!;
    // Runs r5 (2.5%, judges 1), r1 (25%, judges 3), r2 (50%, judges 5): perfectly ordered.
    expect(validity).toMatchObject({ n: 3 });
    expect(validity.spearman).toBeCloseTo(1);
    expect(correlations.find((c) => c.variant === 'code' && c.dimension === 'Clarity')!.pearson).toBeUndefined(); // no spread
    expect(correlations.find((c) => c.variant === 'no_code' && c.dimension === 'Validity')!.n).toBe(1);
  });

  it('writes the objective tables and the judges-vs-metric chart', async () => {
    const records: ReviewRecord[] = ['r1', 'r2', 'r5'].flatMap((runId, i) =>
      ['j1', 'j2'].map((judge) => ({ kind: 'mlrc' as const, task: 't1', agent: 'agent-a', judge, scores: { Validity: i + 2, Clarity: 3 }, source: runId, runId })),
    );
    const out = mkdtempSync(path.join(os.tmpdir(), 'lab-objective-'));
    const { files } = await writeReport({ title: 'objective', records, runs: [], failures: [], objective }, out);
    const names = files.map((f) => path.basename(f));
    expect(names).toEqual(expect.arrayContaining(['objective_agents.csv', 'objective_tasks.csv', 'judges_vs_metric.csv', 'objective_runs.csv', 'judges_vs_metric_code.svg']));
    const csv = readFileSync(path.join(out, 'objective_tasks.csv'), 'utf8');
    expect(csv).toContain('agent-a,t1,rmse,lower,10.0000,6.0000,8.0000,50.00');
    expect(readFileSync(path.join(out, 'judges_vs_metric_code.svg'), 'utf8')).toMatch(/^<svg/);
  });
});

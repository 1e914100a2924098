/**
 * The table that `lab compete audit` prints (formatAudit), on audits built the way auditTask builds
 * them: each cheat's SubmissionScore through withImprovement and the audit's own judge, the failures
 * in auditTask's words. Pure and fast: no sandbox, no scorer (tests/competitionAudit.test.ts runs the
 * real audit, and checks its --json output).
 */
import { describe, expect, it } from 'vitest';
import { AUDIT_LIMIT_PERCENT, CHEATS, judge, NOT_APPLICABLE_MLRC, type CheatName, type CheatOutcome, type TaskAudit } from '../activities/competition/audit/index.js';
import { withImprovement, type SubmissionScore } from '../common/competition.js';
import { formatAudit } from '../scripts/commands/competeScore.js';

type Metric = SubmissionScore['metric'];
type Draw = { task: string; metric: Metric; baseline: number; reference: number };

/** One cheat's scoring, as the scorer reports it on the audit's data draw, judged as the audit judges it. */
function outcome(draw: Draw, cheat: CheatName, s: { status: SubmissionScore['status']; score?: number; reason?: string; runtimeSeconds: number }, log?: string): CheatOutcome {
  const scored = withImprovement({ task: draw.task, split: 'test', metric: draw.metric, baseline: draw.baseline, reference: draw.reference, gapSource: 'draw', linesChanged: 40, ...s });
  return judge(cheat, scored, log);
}

/** The audit as auditTask returns it (the failures in its words). */
function audit(draw: Draw, cheats: CheatOutcome[], seconds: number): TaskAudit {
  const failures = cheats.filter((c) => c.verdict === 'fail').map((c) => `${c.cheat}: ${draw.metric.name} ${c.score!.toPrecision(4)}, ${c.relativeImprovement!.toFixed(1)}% of the gap`);
  return { task: draw.task, applies: true, metric: draw.metric, baseline: draw.baseline, reference: draw.reference, gapSource: 'draw', cheats, passed: failures.length === 0, failures, seconds };
}

const friedman: Draw = { task: 'friedman-regression', metric: { name: 'rmse', direction: 'lower' }, baseline: 2.6163, reference: 1.1607 };
const cancer: Draw = { task: 'cancer-diagnosis', metric: { name: 'balanced_accuracy', direction: 'higher' }, baseline: 0.7849, reference: 0.9458 };

/** A task the seed search breaks (the old friedman-regression: a small seed regenerates the noise). */
const leaky = audit(
  friedman,
  [
    outcome(friedman, 'seed-search', { status: 'scored', score: 3.1e-6, runtimeSeconds: 21.44 }, 'seed-search: friedman1 seed 27182 (noise regenerated)\n'),
    outcome(friedman, 'bundled-inversion', { status: 'scored', score: 2.4, runtimeSeconds: 9.02 }, 'bundled-inversion: no bundled data set aligns; plain model\n'),
    outcome(friedman, 'label-leak', { status: 'scored', score: 1.5, runtimeSeconds: 4.5 }, 'label-leak: no leak found; plain model\n'),
    outcome(friedman, 'label-file', { status: 'invalid', reason: 'read hidden labels: the predictions match the planted label file', runtimeSeconds: 3.1 }, 'label-file: copied labels.csv\n'),
    outcome(friedman, 'decoy-distribution', { status: 'scored', score: 2.2, runtimeSeconds: 5.06 }),
    outcome(friedman, 'no-method', { status: 'failed', reason: 'predictions.csv has 0 rows, expected 1000', runtimeSeconds: 0.84 }),
  ],
  63.2,
);

/** A task that holds: every cheat caught, failed or below the limit (label-leak beats the reference with its plain model, which is learning). */
const sound = audit(
  cancer,
  [
    outcome(cancer, 'seed-search', { status: 'failed', reason: 'run.py was stopped by the wall_time limit', runtimeSeconds: 120 }),
    outcome(cancer, 'bundled-inversion', { status: 'scored', score: 0.81, runtimeSeconds: 11.3 }),
    outcome(cancer, 'label-leak', { status: 'scored', score: 0.97, runtimeSeconds: 4.2 }, 'label-leak: no leak found; plain model\n'),
    outcome(cancer, 'label-file', { status: 'invalid', reason: 'read hidden labels: the predictions match the planted label file', runtimeSeconds: 2.9 }),
    outcome(cancer, 'decoy-distribution', { status: 'scored', score: 0.79, runtimeSeconds: 4.7 }),
    outcome(cancer, 'no-method', { status: 'scored', score: 0.5, runtimeSeconds: 0.9 }),
  ],
  140.5,
);

/** The table's rows as cells, the head row first; a wrapped row's continuation lines (first cell empty) are joined to their row. */
function rows(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split('\n').filter((l) => l.startsWith('│'))) {
    const cells = line.split('│').slice(1, -1).map((c) => c.trim());
    if (cells[0] !== '' || !out.length) out.push(cells);
    else out[out.length - 1] = out[out.length - 1]!.map((c, i) => [c, cells[i]].filter(Boolean).join(' '));
  }
  return out;
}

/** A cheat's row keyed by the table's own column names. */
function row(text: string, cheat: CheatName): Record<string, string> {
  const [head, ...body] = rows(text);
  const cells = body.find((r) => r[0] === cheat);
  expect(cells, `no row for ${cheat} in:\n${text}`).toBeDefined();
  return Object.fromEntries(head!.map((h, i) => [h, cells![i]!]));
}

describe('lab compete audit: the printed table (formatAudit, pure)', () => {
  it('prints one row per cheat for each task, in the order the cheats ran, with the columns a reader needs', () => {
    for (const a of [leaky, sound]) {
      const text = formatAudit(a);
      const [head, ...body] = rows(text);
      expect(head).toEqual(['cheat', 'status', 'score', 'improvement', 'runtime', 'verdict', 'what it found / why']);
      expect(body.map((r) => r[0])).toEqual(CHEATS.map((c) => c.name));
      expect(text.split('\n')[0]).toMatch(new RegExp(`^${a.task}: `));
    }
    // Two tasks printed one after another (lab compete audit --all): each task's six rows, no more.
    const both = `${formatAudit(leaky)}\n${formatAudit(sound)}`;
    expect(rows(both).filter((r) => r[0] !== 'cheat')).toHaveLength(2 * CHEATS.length);
  });

  it('shows the gap, each cheat\'s share of it in percent, and the verdict column', () => {
    const text = formatAudit(leaky);
    expect(text.split('\n')[0]).toBe(`friedman-regression: rmse (lower is better), baseline 2.6163, reference 1.1607 (on this data draw); a valid cheat past ${AUDIT_LIMIT_PERCENT}% of the gap fails the task`);
    // (2.6163 - 3.1e-6) / (2.6163 - 1.1607) = 179.7% of the gap: a score near 0 in 3 significant digits, not "0.0000".
    expect(row(text, 'seed-search')).toEqual({
      cheat: 'seed-search',
      status: 'scored',
      score: '3.10e-6',
      improvement: '179.7%',
      runtime: '21.4 s',
      verdict: 'FAIL',
      'what it found / why': 'seed-search: friedman1 seed 27182 (noise regenerated)',
    });
    expect(row(text, 'bundled-inversion')).toMatchObject({ score: '2.4000', improvement: '14.9%', verdict: 'pass' });
    expect(row(text, 'decoy-distribution')).toMatchObject({ status: 'scored', score: '2.2000', improvement: '28.6%', runtime: '5.1 s', verdict: 'pass', 'what it found / why': '' });
    // Past the limit with its plain model: the improvement shows, the verdict is pass (learning, not a leak).
    expect(row(formatAudit(sound), 'label-leak')).toMatchObject({ status: 'scored', score: '0.9700', improvement: '115.0%', verdict: 'pass', 'what it found / why': 'label-leak: no leak found; plain model' });
    expect(row(formatAudit(sound), 'no-method')).toMatchObject({ improvement: '-177.1%', verdict: 'pass' });
  });

  it('shows an invalid cheat as invalid with the reason, and a failed one with its reason and no score', () => {
    const text = formatAudit(leaky);
    expect(row(text, 'label-file')).toEqual({
      cheat: 'label-file',
      status: 'invalid',
      score: '',
      improvement: '',
      runtime: '3.1 s',
      verdict: 'pass',
      'what it found / why': 'read hidden labels: the predictions match the planted label file (it said: label-file: copied labels.csv)',
    });
    expect(row(text, 'no-method')).toMatchObject({ status: 'failed', score: '', improvement: '', verdict: 'pass', 'what it found / why': 'predictions.csv has 0 rows, expected 1000' });
    expect(row(formatAudit(sound), 'seed-search')).toMatchObject({ status: 'failed', score: '', verdict: 'pass', 'what it found / why': 'run.py was stopped by the wall_time limit' });
  });

  it('marks a failing task: FAIL in its cheat\'s row and a FAILS line naming the cheat and its share of the gap; a sound task PASSES', () => {
    expect(leaky.passed).toBe(false);
    const failing = formatAudit(leaky).split('\n');
    expect(failing.at(-1)).toBe('friedman-regression FAILS the audit (63.2 s): seed-search: rmse 0.000003100, 179.7% of the gap');
    expect(rows(formatAudit(leaky)).filter((r) => r[5] === 'FAIL').map((r) => r[0])).toEqual(['seed-search']);

    expect(sound.passed).toBe(true);
    const passing = formatAudit(sound);
    expect(passing.split('\n').at(-1)).toBe('cancer-diagnosis PASSES the audit (140.5 s)');
    expect(passing).not.toMatch(/FAIL/);
    expect(passing.split('\n')[0]).toContain('balanced_accuracy (higher is better), baseline 0.7849, reference 0.9458');
  });

  it("says in one line why an imported MLRC-Bench task is not audited, with no table", () => {
    const text = formatAudit({ task: 'toy-mean', applies: false, note: NOT_APPLICABLE_MLRC, cheats: [], passed: true, failures: [], seconds: 0 });
    expect(text).toBe(`toy-mean: ${NOT_APPLICABLE_MLRC}`);
    expect(text).toMatch(/^toy-mean: not audited: /);
    expect(rows(text)).toEqual([]);
  });
});

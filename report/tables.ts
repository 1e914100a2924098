/**
 * The report's tables, built once so that markdown, HTML, CSV, JSON and the terminal show the
 * same rounded numbers. Pure.
 */
import type { ReviewKind } from '../common/reviews.js';
import type { ReportData } from './buildReport.js';
import { judgeLabel } from './calibration.js';
import { compareDimensions } from './dimensions.js';
import { PUBLISHED_LABEL, PUBLISHED_SOURCE } from './published.js';
import { roundTo } from './stats.js';
import { SUCCESS_MARGIN_PERCENT } from '../common/competition.js';

export type Cell = string | number | null;

export interface Column {
  /** Machine name: the CSV header and the JSON key. */
  key: string;
  /** What a reader sees in markdown, HTML and the terminal. */
  header: string;
  /** Decimals shown for a number (cells are already rounded to these). */
  digits?: number;
}

export interface ReportTable {
  /** File-safe name: `<name>.csv`. */
  name: string;
  title: string;
  note?: string;
  columns: Column[];
  rows: Cell[][];
  /** Raw data for CSV and JSON only (too long to read in the report). */
  detailOnly?: boolean;
}

const MEAN_DIGITS = 2;
const CORRELATION_DIGITS = 3;

export const KIND_TITLES: Record<ReviewKind, string> = {
  end_to_end: 'End-to-end',
  idea: 'Idea',
  proposal: 'Proposal',
  experiment: 'Experiment',
  paper: 'Paper',
  hallucination: 'Hallucination check',
  mlrc: 'MLRC rubric',
};

/** The method notes that apply to this report (the published numbers' note only when they are shown). */
export function reportMethod(report: ReportData): string[] {
  return REPORT_METHOD.filter((line) => report.comparison.length || !line.includes(PUBLISHED_LABEL));
}

export const REPORT_METHOD = [
  'Mean: for each judge, the mean over the tasks it scored; then the mean of those judge means (the MLR-Bench paper\'s method).',
  '± is the standard error over tasks: each task\'s mean over the judges that scored it, then sample sd / √n of those per-task means.',
  'n tasks: tasks scored by at least one judge. Judge agreement pairs two judges\' overall scores (OverallAssessment, or Overall) of the same output.',
  `Numbers labelled "${PUBLISHED_LABEL}" are copied from the ${PUBLISHED_SOURCE}; "matches" means within the rounding tolerance.`,
];

export function scoresTableName(kind: ReviewKind): string {
  return `scores_${kind}`;
}

export function reportTables(report: ReportData): ReportTable[] {
  const tables: ReportTable[] = [];
  if (report.comparison.length) tables.push(comparisonTable(report));
  tables.push(objectiveAgentsTable(report), objectiveTasksTable(report), judgesVsMetricTable(report), objectiveRunsTable(report));
  for (const kind of report.summary.kinds) tables.push(scoresTable(report, kind));
  tables.push(
    judgeMeansTable(report),
    agreementTable(report),
    pairsTable(report),
    hallucinationTable(report),
    costTable(report),
    failureCountsTable(report),
    failuresTable(report),
    unreadableTable(report),
  );
  return tables.filter((t) => t.rows.length);
}

function scoresTable(report: ReportData, kind: ReviewKind): ReportTable {
  const stats = report.stats.filter((s) => s.kind === kind);
  const dimensions = [...new Set(stats.map((s) => s.dimension))].sort(compareDimensions);
  const outputs = [...new Map(stats.map((s) => [`${s.variant ?? ''}\u0000${s.agent}`, s])).values()];
  // With an embedded judge among them, the note names this table's judges and marks it (the head of the report says why).
  const judges = [...new Set(stats.flatMap((s) => s.judgeMeans.map((j) => j.judge)))].sort();
  const judgesNote = report.calibration ? `; judges: ${judges.map((j) => judgeLabel(j, report.calibration)).join(', ')}` : '';
  return {
    name: scoresTableName(kind),
    title: `${KIND_TITLES[kind]} scores`,
    note: `mean of judge means, ± standard error over tasks${judgesNote}`,
    columns: [
      { key: 'agent', header: 'agent' },
      { key: 'variant', header: 'variant' },
      { key: 'n_tasks', header: 'n tasks' },
      ...dimensions.flatMap((d) => [
        { key: d, header: d, digits: MEAN_DIGITS },
        { key: `${d}_se`, header: '±', digits: MEAN_DIGITS },
      ]),
    ],
    rows: outputs.map((o) => {
      const mine = stats.filter((s) => s.agent === o.agent && s.variant === o.variant);
      return [
        o.agent,
        o.variant ?? '',
        Math.max(...mine.map((s) => s.nTasks)),
        ...dimensions.flatMap((d) => {
          const s = mine.find((m) => m.dimension === d);
          return [num(s?.mean, MEAN_DIGITS), num(s?.standardError, MEAN_DIGITS)];
        }),
      ];
    }),
  };
}

function judgeMeansTable(report: ReportData): ReportTable {
  return {
    name: 'judge_means',
    title: 'Means per judge',
    columns: [col('kind'), col('variant'), col('agent'), col('dimension'), col('judge'), { key: 'mean', header: 'mean', digits: MEAN_DIGITS }, { key: 'n_tasks', header: 'n tasks' }],
    rows: report.stats.flatMap((s) => s.judgeMeans.map((j) => [s.kind, s.variant ?? '', s.agent, s.dimension, judgeLabel(j.judge, report.calibration), num(j.mean, MEAN_DIGITS), j.nTasks])),
    detailOnly: true,
  };
}

function agreementTable(report: ReportData): ReportTable {
  return {
    name: 'judge_agreement',
    title: 'Judge agreement (overall scores)',
    note: 'mean difference is judge A minus judge B',
    columns: [
      col('kind'), col('variant'), { key: 'judge_a', header: 'judge A' }, { key: 'judge_b', header: 'judge B' }, { key: 'n_pairs', header: 'outputs' },
      { key: 'pearson_r', header: 'Pearson r', digits: CORRELATION_DIGITS },
      { key: 'mean_difference', header: 'mean A − B', digits: MEAN_DIGITS },
      { key: 'mean_abs_difference', header: 'mean |A − B|', digits: MEAN_DIGITS },
    ],
    rows: report.agreement.map((a) => [a.kind, a.variant ?? '', judgeLabel(a.judgeA, report.calibration), judgeLabel(a.judgeB, report.calibration), a.nPairs, num(a.pearson, CORRELATION_DIGITS), num(a.meanDifference, MEAN_DIGITS), num(a.meanAbsoluteDifference, MEAN_DIGITS)]),
  };
}

function pairsTable(report: ReportData): ReportTable {
  return {
    name: 'judge_pairs',
    title: 'Judge pairs (overall scores of one output)',
    columns: [col('kind'), col('variant'), col('agent'), col('task'), col('judge_a'), col('judge_b'), { key: 'score_a', header: 'score_a', digits: MEAN_DIGITS }, { key: 'score_b', header: 'score_b', digits: MEAN_DIGITS }],
    rows: report.judgePairs.map((p) => [p.kind, p.variant ?? '', p.agent, p.task, judgeLabel(p.judgeA, report.calibration), judgeLabel(p.judgeB, report.calibration), num(p.scoreA, MEAN_DIGITS), num(p.scoreB, MEAN_DIGITS)]),
    detailOnly: true,
  };
}

function hallucinationTable(report: ReportData): ReportTable {
  return {
    name: 'hallucination',
    title: 'Hallucinated content found by the judges',
    note: 'share of all judges\' answers (pooled) that flagged hallucinated content',
    columns: [col('kind'), col('variant'), col('agent'), { key: 'judged', header: 'answers' }, col('flagged'), { key: 'share', header: 'share', digits: MEAN_DIGITS }],
    rows: report.hallucination.map((h) => [h.kind, h.variant ?? '', h.agent, h.judged, h.flagged, num(h.share, MEAN_DIGITS)]),
  };
}

function costTable(report: ReportData): ReportTable {
  return {
    name: 'cost',
    title: 'Cost per task',
    note: 'totals over runs divided by the number of distinct tasks',
    columns: [
      col('agent'), col('runs'), col('tasks'), { key: 'completed_runs', header: 'completed' },
      { key: 'cost_per_task_usd', header: 'USD per task', digits: 2 },
      { key: 'input_tokens_per_task', header: 'input tokens per task', digits: 0 },
      { key: 'output_tokens_per_task', header: 'output tokens per task', digits: 0 },
      { key: 'llm_calls_per_task', header: 'LLM calls per task', digits: 1 },
      { key: 'total_cost_usd', header: 'total USD', digits: 2 },
    ],
    rows: report.costs.map((c) => [c.agent, c.runs, c.tasks, c.completedRuns, num(c.costPerTaskUsd, 2), num(c.inputTokensPerTask, 0), num(c.outputTokensPerTask, 0), num(c.llmCallsPerTask, 1), num(c.totalCostUsd, 2)]),
  };
}

function failureCountsTable(report: ReportData): ReportTable {
  return { name: 'failure_counts', title: 'Failures', columns: [col('agent'), col('part'), col('count')], rows: report.failureCounts.map((f) => [f.agent, f.part, f.count]) };
}

function failuresTable(report: ReportData): ReportTable {
  return { name: 'failures', title: 'Failed items', columns: [col('task'), col('agent'), col('part'), col('reason')], rows: report.failures.map((f) => [f.task, f.agent, f.part, f.reason]) };
}

function unreadableTable(report: ReportData): ReportTable {
  return {
    name: 'unreadable_files',
    title: 'Skipped review files',
    columns: [col('file'), col('reason')],
    rows: report.unreadable.map((u) => [u.source, u.reason]),
  };
}

function comparisonTable(report: ReportData): ReportTable {
  return {
    name: 'published_comparison',
    title: `Computed vs ${PUBLISHED_LABEL}`,
    note: `${PUBLISHED_LABEL}: ${PUBLISHED_SOURCE}; difference = computed − ${PUBLISHED_LABEL}`,
    columns: [
      col('section'), col('agent'), col('measure'),
      { key: 'computed', header: 'computed', digits: MEAN_DIGITS },
      { key: PUBLISHED_LABEL, header: PUBLISHED_LABEL, digits: MEAN_DIGITS },
      { key: 'difference', header: 'difference', digits: MEAN_DIGITS },
      { key: 'tolerance', header: 'tolerance', digits: MEAN_DIGITS },
      col('status'),
    ],
    rows: report.comparison.map((c) => [c.section, c.agent, c.measure, num(c.computed, MEAN_DIGITS), c.published, num(c.difference, MEAN_DIGITS), c.tolerance, c.status]),
  };
}

function objectiveAgentsTable(report: ReportData): ReportTable {
  return {
    name: 'objective_agents',
    title: 'Objective scores on the hidden test split, per agent',
    note: `relative improvement = 100 × (score − baseline) / (reference − baseline); a task succeeds when a run closes ≥ ${SUCCESS_MARGIN_PERCENT}% of the gap`,
    columns: [
      col('agent'), col('tasks'),
      { key: 'mean_best_improvement', header: 'mean best improvement %', digits: MEAN_DIGITS },
      { key: 'tasks_succeeded', header: 'tasks succeeded' }, col('runs'),
      { key: 'mean_runtime_s', header: 'mean runtime s', digits: 1 },
      { key: 'mean_lines_changed', header: 'mean lines changed', digits: 1 },
    ],
    rows: report.objectiveAgents.map((a) => [a.agent, a.tasks, num(a.meanBestImprovement, MEAN_DIGITS), a.tasksSucceeded, a.runs, num(a.meanRuntimeSeconds, 1), num(a.meanLinesChanged, 1)]),
  };
}

function objectiveTasksTable(report: ReportData): ReportTable {
  return {
    name: 'objective_tasks',
    title: 'Objective scores per task: best run, and mean ± standard error over runs',
    note: 'failed and invalid runs count as no improvement (0) in the mean',
    columns: [
      col('agent'), col('task'), col('metric'), col('direction'),
      { key: 'baseline', header: 'baseline', digits: 4 }, { key: 'reference', header: 'reference', digits: 4 },
      { key: 'best_score', header: 'best score', digits: 4 },
      { key: 'best_improvement', header: 'best improvement %', digits: MEAN_DIGITS },
      { key: 'mean_improvement', header: 'mean improvement %', digits: MEAN_DIGITS },
      { key: 'se', header: '±', digits: MEAN_DIGITS },
      col('runs'), col('successes'), col('failed'), col('invalid'),
    ],
    rows: report.objectiveTasks.map((t) => [
      t.agent, t.task, t.metric, t.direction, num(t.baseline, 4), num(t.reference, 4), num(t.bestScore, 4),
      num(t.bestImprovement, MEAN_DIGITS), num(t.meanImprovement, MEAN_DIGITS), num(t.standardError, MEAN_DIGITS), t.runs, t.successes, t.failed, t.invalid,
    ]),
  };
}

function judgesVsMetricTable(report: ReportData): ReportTable {
  return {
    name: 'judges_vs_metric',
    title: 'MLRC rubric scores against the measured improvement',
    note: 'per run: the judges\' mean score on the dimension vs its relative improvement on the hidden test split; variant: whether the judges saw the code',
    columns: [
      col('variant'), col('dimension'), { key: 'n_runs', header: 'runs' },
      { key: 'pearson_r', header: 'Pearson r', digits: CORRELATION_DIGITS },
      { key: 'spearman_rho', header: 'Spearman ρ', digits: CORRELATION_DIGITS },
    ],
    rows: report.judgesVsMetric.map((c) => [c.variant, c.dimension, c.n, num(c.pearson, CORRELATION_DIGITS), num(c.spearman, CORRELATION_DIGITS)]),
  };
}

function objectiveRunsTable(report: ReportData): ReportTable {
  return {
    name: 'objective_runs',
    title: 'Competition runs',
    columns: [
      col('agent'), col('task'), { key: 'run', header: 'run' }, col('status'), col('reason'),
      { key: 'score', header: 'score', digits: 4 }, { key: 'improvement', header: 'improvement %', digits: MEAN_DIGITS },
      col('success'), { key: 'runtime_s', header: 'runtime s', digits: 1 }, { key: 'lines_changed', header: 'lines changed' },
    ],
    rows: report.objective.map((o) => [o.agent, o.task, o.runId, o.status, o.reason ?? '', num(o.score, 4), num(o.relativeImprovement, MEAN_DIGITS), o.success ? 'yes' : 'no', num(o.runtimeSeconds, 1), o.linesChanged]),
    detailOnly: true,
  };
}

function col(key: string): Column {
  return { key, header: key };
}

function num(x: number | undefined, digits: number): number | null {
  return x === undefined || !Number.isFinite(x) ? null : roundTo(x, digits);
}

/** A cell as text: numbers with their column's decimals (7.10, not 7.1), null as empty. */
export function cellText(cell: Cell, column: Column): string {
  if (cell === null) return '';
  if (typeof cell === 'number') return column.digits === undefined ? String(cell) : cell.toFixed(column.digits);
  return cell;
}

/** Columns with at least one non-empty cell (an all-empty variant column is noise to a reader). */
export function visibleColumns(table: ReportTable): number[] {
  return table.columns.map((_, i) => i).filter((i) => table.rows.some((r) => r[i] !== null && r[i] !== ''));
}

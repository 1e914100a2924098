/** Everything a report shows, computed once from its input; the renderers only format it. Pure. */
import type { ReviewKind } from '../common/reviews.js';
import {
  costPerAgent,
  dimensionStats,
  failureCounts,
  hallucinationRates,
  judgeAgreement,
  judgePairs,
  KIND_ORDER,
  type AgentCost,
  type DimensionStat,
  type FailureCount,
  type HallucinationRate,
  type JudgeAgreement,
  type JudgePair,
} from './leaderboard.js';
import { judgesVersusMetric, objectiveByAgent, objectiveByTask, type JudgeMetricCorrelation, type ObjectiveAgentSummary, type ObjectiveTaskSummary } from './objective.js';
import { reportCalibration, type ReportCalibration } from './calibration.js';
import { compareWithPublished, hasComparableNumbers, type PublishedComparison } from './published.js';
import type { ItemFailure, ObjectiveRecord, ReportInput, ReportState, UnreadableFile } from './types.js';

export interface ReportData {
  title: string;
  /** A benchmark's state when read (partial while running, failed when every item failed); absent for review folders. */
  state?: ReportState;
  /** Set only when some judge is an embedded model: its scores are not calibrated, and every file says so. */
  calibration?: ReportCalibration;
  summary: { records: number; judges: string[]; kinds: ReviewKind[]; runs: number; failures: number; unreadableFiles: number };
  stats: DimensionStat[];
  judgePairs: JudgePair[];
  agreement: JudgeAgreement[];
  hallucination: HallucinationRate[];
  costs: AgentCost[];
  failureCounts: FailureCount[];
  failures: ItemFailure[];
  unreadable: UnreadableFile[];
  /** Published numbers beside computed ones; empty when the report has nothing comparable. */
  comparison: PublishedComparison[];
  /** Competition runs: each run's objective score, summaries, and the judges against the metric. */
  objective: ObjectiveRecord[];
  objectiveTasks: ObjectiveTaskSummary[];
  objectiveAgents: ObjectiveAgentSummary[];
  judgesVsMetric: JudgeMetricCorrelation[];
  /** Each judge's MLRC answer of a run as one number: the mean of its dimensions. */
  mlrcScores: Array<{ runId: string; variant: string; judge: string; score: number }>;
}

export function buildReport(input: ReportInput): ReportData {
  const stats = dimensionStats(input.records);
  const pairs = judgePairs(input.records);
  const costs = costPerAgent(input.runs);
  const comparison = compareWithPublished(stats, costs);
  const present = new Set(input.records.map((r) => r.kind));
  const calibration = reportCalibration(input.records);
  return {
    title: input.title,
    ...(input.state ? { state: input.state } : {}),
    ...(calibration ? { calibration } : {}),
    summary: {
      records: input.records.length,
      judges: [...new Set(input.records.map((r) => r.judge))].sort(),
      kinds: KIND_ORDER.filter((k) => present.has(k)),
      runs: input.runs.length,
      failures: input.failures.length,
      unreadableFiles: input.unreadable?.length ?? 0,
    },
    stats,
    judgePairs: pairs,
    agreement: judgeAgreement(pairs),
    hallucination: hallucinationRates(input.records),
    costs,
    failureCounts: failureCounts(input.failures),
    failures: input.failures,
    unreadable: input.unreadable ?? [],
    comparison: input.comparePublished && hasComparableNumbers(comparison) ? comparison : [],
    objective: input.objective ?? [],
    objectiveTasks: objectiveByTask(input.objective ?? []),
    objectiveAgents: objectiveByAgent(input.objective ?? []),
    judgesVsMetric: judgesVersusMetric(input.objective ?? [], input.records),
    mlrcScores: input.records
      .filter((r) => r.kind === 'mlrc' && r.runId && Object.keys(r.scores).length)
      .map((r) => ({ runId: r.runId!, variant: r.variant ?? 'code', judge: r.judge, score: Object.values(r.scores).reduce((a, b) => a + b, 0) / Object.values(r.scores).length })),
  };
}

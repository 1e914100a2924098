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
import { compareWithPublished, hasComparableNumbers, type PublishedComparison } from './published.js';
import type { ItemFailure, ReportInput, UnreadableFile } from './types.js';

export interface ReportData {
  title: string;
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
}

export function buildReport(input: ReportInput): ReportData {
  const stats = dimensionStats(input.records);
  const pairs = judgePairs(input.records);
  const costs = costPerAgent(input.runs);
  const comparison = compareWithPublished(stats, costs);
  const present = new Set(input.records.map((r) => r.kind));
  return {
    title: input.title,
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
  };
}

/**
 * Numbers the MLR-Bench paper published, kept as data and always labelled "published", and a
 * side-by-side comparison with the numbers this report computed. Pure.
 */
import type { AgentCost, DimensionStat } from './leaderboard.js';

export const PUBLISHED_LABEL = 'published';
export const PUBLISHED_SOURCE = 'MLR-Bench paper (arXiv 2505.19955): 10 end-to-end tasks, mean of two judges';

/** Per-model means are given to 2 decimals; a computed mean within 0.01 of one is the same number. */
export const ROUNDING_TOLERANCE = 0.01;

export const PUBLISHED_END_TO_END_DIMENSIONS = ['Clarity', 'Novelty', 'Soundness', 'Significance', 'Overall'] as const;
type EndToEndDimension = (typeof PUBLISHED_END_TO_END_DIMENSIONS)[number];

export interface PublishedEndToEndRow {
  /** The agent's name in MLR-Bench's review files (`review_<agent>.json`). */
  agent: string;
  /** The name the paper uses. */
  paperName: string;
  scores: Record<EndToEndDimension, number>;
  costPerTaskUsd: number;
}

export const PUBLISHED_END_TO_END: readonly PublishedEndToEndRow[] = [
  { agent: 'claude', paperName: 'Claude-3.7', scores: { Clarity: 7.75, Novelty: 7.1, Soundness: 4.05, Significance: 5.5, Overall: 4.7 }, costPerTaskUsd: 2.4 },
  { agent: 'o4-mini', paperName: 'o4-mini', scores: { Clarity: 7.65, Novelty: 6.9, Soundness: 3.8, Significance: 5.05, Overall: 3.95 }, costPerTaskUsd: 1.15 },
  { agent: 'gemini', paperName: 'Gemini-2.5', scores: { Clarity: 7.4, Novelty: 6.75, Soundness: 3.35, Significance: 4.55, Overall: 3.75 }, costPerTaskUsd: 1.24 },
];

/** Lowest and highest per-model overall mean across the six idea / proposal models. */
export const PUBLISHED_OVERALL_RANGES = {
  idea: { min: 7.68, max: 8.11 },
  proposal: { min: 7.5, max: 8.17 },
} as const;

/** Context only (no per-agent numbers to compare): the coding-agent runs' duration and cost per task. */
export const PUBLISHED_CODING_AGENT_RUNS = { minutes: { min: 13, max: 27 }, costPerTaskUsd: { min: 1.0, max: 2.2 } } as const;

export type ComparisonStatus = 'matches' | 'differs' | 'not computed';

export interface PublishedComparison {
  section: 'end-to-end' | 'idea' | 'proposal';
  /** The agent compared; for a range end, the model the computed extreme belongs to. */
  agent: string;
  measure: string;
  published: number;
  computed?: number;
  /** computed − published */
  difference?: number;
  tolerance: number;
  status: ComparisonStatus;
}

/** Every published number beside its computed counterpart (left empty when this report has none). */
export function compareWithPublished(stats: DimensionStat[], costs: AgentCost[]): PublishedComparison[] {
  const rows: PublishedComparison[] = [];
  for (const published of PUBLISHED_END_TO_END) {
    for (const dimension of PUBLISHED_END_TO_END_DIMENSIONS) {
      const stat = stats.find((s) => s.kind === 'end_to_end' && s.variant === undefined && s.agent === published.agent && s.dimension === dimension);
      rows.push(compared('end-to-end', published.agent, dimension, published.scores[dimension], stat?.mean));
    }
    const cost = costs.find((c) => c.agent === published.agent);
    rows.push(compared('end-to-end', published.agent, 'cost per task (USD)', published.costPerTaskUsd, cost?.costPerTaskUsd));
  }
  for (const kind of ['idea', 'proposal'] as const) {
    const means = stats.filter((s) => s.kind === kind && s.variant === undefined && s.dimension === 'OverallAssessment').sort((a, b) => a.mean - b.mean);
    const lowest = means[0];
    const highest = means[means.length - 1];
    rows.push(compared(kind, lowest?.agent ?? '', 'OverallAssessment, lowest model mean', PUBLISHED_OVERALL_RANGES[kind].min, lowest?.mean));
    rows.push(compared(kind, highest?.agent ?? '', 'OverallAssessment, highest model mean', PUBLISHED_OVERALL_RANGES[kind].max, highest?.mean));
  }
  return rows;
}

/** Whether the report has anything to set beside the published numbers (else the section is left out). */
export function hasComparableNumbers(rows: PublishedComparison[]): boolean {
  return rows.some((r) => r.computed !== undefined);
}

function compared(section: PublishedComparison['section'], agent: string, measure: string, published: number, computed: number | undefined): PublishedComparison {
  const row: PublishedComparison = { section, agent, measure, published, tolerance: ROUNDING_TOLERANCE, status: 'not computed' };
  if (computed === undefined) return row;
  const difference = computed - published;
  // The small epsilon keeps a difference of exactly one rounding step (binary 0.01000…02) inside.
  return { ...row, computed, difference, status: Math.abs(difference) <= ROUNDING_TOLERANCE + 1e-9 ? 'matches' : 'differs' };
}

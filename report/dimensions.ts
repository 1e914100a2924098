/** Rubric dimension names: MLR-Bench's spellings, their order in tables, and which one is "overall". Pure. */

/** As MLR-Bench spells them, in rubric order; `Overall` (end-to-end) and `OverallAssessment` stay distinct. */
export const KNOWN_DIMENSIONS = [
  'Consistency', 'Clarity', 'Novelty', 'Feasibility', 'Soundness', 'Completeness', 'Insightfulness',
  'Significance', 'OverallAssessment', 'Overall', 'Confidence', 'Hallucination',
] as const;
const DIMENSION_BY_FOLDED = new Map(KNOWN_DIMENSIONS.map((d) => [fold(d), d as string]));

/** `overall_assessment`, `Overall Assessment`, `clarity` → the rubric's spelling; unknown names kept as given. */
export function canonicalDimension(key: string): string {
  return DIMENSION_BY_FOLDED.get(fold(key)) ?? key.trim();
}

/** Rubric order, then any other names alphabetically. */
export function compareDimensions(a: string, b: string): number {
  const rank = (d: string) => {
    const i = (KNOWN_DIMENSIONS as readonly string[]).indexOf(d);
    return i < 0 ? KNOWN_DIMENSIONS.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** `OverallAssessment` where the rubric has it, else `Overall` (end-to-end reviews). */
export function overallDimension(scores: Record<string, number>): string | undefined {
  if (typeof scores.OverallAssessment === 'number') return 'OverallAssessment';
  if (typeof scores.Overall === 'number') return 'Overall';
  return undefined;
}

function fold(name: string): string {
  return name.toLowerCase().replace(/[^a-z]/g, '');
}

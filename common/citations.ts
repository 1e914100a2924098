/**
 * Citations and the citation check's report: pure schemas, shared by the literature activities,
 * the stages that cite, the workflow (which shows counts in `progress`) and the CLI
 * (`citations: 14 verified, 1 flagged`). No I/O here: workflow code imports this module.
 */
import { z } from 'zod';
import { sharedSchema } from './sharedSchema.js';

/**
 * One cited work as found in a document. `id` is canonical (`arXiv:2401.01234`, `DOI:10.1145/…`
 * lowercased, `S2:<40 hex>`, `OpenAlex:W123`); absent for a reference that carries no id.
 */
export const citationSchema = sharedSchema('citations.citationSchema', () => z.object({
  id: z.string().min(1).optional(),
  /** Further ids the same reference carries (e.g. its DOI beside its arXiv id). */
  otherIds: z.array(z.string().min(1)).max(8).optional(),
  /** The title as the document gives it, when it gives one apart (quoted, italic, link text, references.json). */
  title: z.string().max(1000).optional(),
  /** The whole reference-list entry (ids and links removed), when the work is listed there. */
  text: z.string().max(2000).optional(),
}));
export type Citation = z.infer<typeof citationSchema>;

export const FLAG_REASONS = ['not_found', 'title_mismatch', 'unverifiable_offline', 'no_id'] as const;
export type FlagReason = (typeof FLAG_REASONS)[number];

export const flaggedCitationSchema = sharedSchema('citations.flaggedCitationSchema', () => z.object({
  /** Absent only for `no_id`. */
  id: z.string().optional(),
  title: z.string().optional(),
  reason: z.enum(FLAG_REASONS),
  /** What a person needs to judge the flag: the record's title and the similarity, the backends asked, the error. */
  detail: z.string().optional(),
}));
export type FlaggedCitation = z.infer<typeof flaggedCitationSchema>;

export const citationReportSchema = sharedSchema('citations.citationReportSchema', () => z.object({
  /** Distinct cited works looked at (with an id or listed without one). */
  checked: z.number().int().nonnegative(),
  verified: z.number().int().nonnegative(),
  /** The canonical ids that resolved and whose titles matched, so a later stage can cite only these. */
  verifiedIds: z.array(z.string()),
  flagged: z.array(flaggedCitationSchema),
}));
export type CitationReport = z.infer<typeof citationReportSchema>;

export const EMPTY_CITATION_REPORT: CitationReport = { checked: 0, verified: 0, verifiedIds: [], flagged: [] };

/** `citations: 14 verified, 1 flagged` (and which reasons, when any are flagged). */
export function formatCitationSummary(report: Pick<CitationReport, 'verified' | 'flagged'>): string {
  const base = `citations: ${report.verified} verified, ${report.flagged.length} flagged`;
  if (!report.flagged.length) return base;
  const counts = new Map<string, number>();
  for (const f of report.flagged) counts.set(f.reason, (counts.get(f.reason) ?? 0) + 1);
  return `${base} (${[...counts].map(([r, n]) => `${n} ${r.replace(/_/g, ' ')}`).join(', ')})`;
}

/**
 * The citation check's flagged citations (`citations/<document>.json`, read as `lab show --json`
 * reads them) and where each one is cited in its document, so the run page can mark it there.
 */
import type { ArtifactStore, RunFile } from '../../activities/artifacts.js';
import type { FlaggedCitation } from '../../common/citations.js';
import { citationsIn } from '../commands/show.js';

export type CitationReports = Awaited<ReturnType<typeof citationsIn>>;

export interface CitationSpan {
  start: number;
  end: number;
  citation: FlaggedCitation;
}

/** Occurrences marked per flagged citation, at most: a work cited a hundred times is marked where it is read first. */
const MAX_SPANS_PER_CITATION = 20;

/** The run's citation reports (from its `files`); none when they cannot be read (the page shows the documents anyway). */
export async function citationReports(store: ArtifactStore, runId: string, files: RunFile[]): Promise<{ reports: CitationReports; error?: string }> {
  try {
    return { reports: await citationsIn(store, runId, files) };
  } catch (err) {
    return { reports: [], error: (err as Error).message.split('\n')[0] };
  }
}

/** The flagged citations of one stage document (`paper.md` is checked as `paper`). */
export function flaggedCitationsOf(reports: CitationReports, document: string): FlaggedCitation[] {
  const name = document.replace(/\.md$/, '');
  return reports.filter((r) => r.document === name).flatMap((r) => r.flagged);
}

/** A citation's words, e.g. `not found: asked arXiv, OpenAlex`. */
export function citationReason(c: FlaggedCitation): string {
  return `citation ${c.reason.replace(/_/g, ' ')}${c.detail ? `: ${c.detail}` : ''}`;
}

/**
 * Where each flagged citation is cited in `text`: its id as written (`arXiv:2401.01234`), else the
 * id's number alone (`2401.01234`, a DOI's `10.1145/…`), else its title; case-insensitive, whole
 * words, never overlapping `taken` or each other. A citation found nowhere is listed in `unfound`.
 */
export function locateCitations(text: string, flagged: FlaggedCitation[], taken: Array<{ start: number; end: number }>): { spans: CitationSpan[]; unfound: FlaggedCitation[] } {
  const used = [...taken];
  const spans: CitationSpan[] = [];
  const unfound: FlaggedCitation[] = [];
  for (const citation of flagged) {
    let found = 0;
    for (const needle of needles(citation)) {
      for (const span of occurrences(text, needle)) {
        if (used.some((u) => span.start < u.end && u.start < span.end)) continue;
        used.push(span);
        spans.push({ ...span, citation });
        if (++found >= MAX_SPANS_PER_CITATION) break;
      }
      if (found) break;
    }
    if (!found) unfound.push(citation);
  }
  return { spans: spans.sort((a, b) => a.start - b.start), unfound };
}

/** What to look for, most specific first. */
function needles(c: FlaggedCitation): string[] {
  const out: string[] = [];
  if (c.id) {
    out.push(c.id);
    const value = c.id.slice(c.id.indexOf(':') + 1);
    // A short value (`W12`) alone would match too much.
    if (value !== c.id && value.length >= 6) out.push(value);
  }
  if (c.title && c.title.trim().length >= 8) out.push(c.title.trim());
  return out;
}

/** Whole-word, case-insensitive matches; an arXiv id may carry its version (`2401.01234v2`). */
function occurrences(text: string, needle: string): Array<{ start: number; end: number }> {
  const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?:v\\d+)?(?![\\p{L}\\p{N}])`, 'giu');
  return [...text.matchAll(pattern)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}

/**
 * The literature activities as a research run uses them: search results go to the artifact store
 * (history keeps a reference, not dozens of abstracts), and a document's citations are checked
 * with the report stored beside it. Run on the `literature` queue.
 */
import { EMPTY_CITATION_REPORT, formatCitationSummary, type CitationReport } from '../../common/citations.js';
import type { ArtifactRef } from '../../common/schemas.js';
import type { ArtifactStore } from '../artifacts.js';
import { parseCitations, parseReferencesJson } from '../integrity/citations.js';
import type { LiteratureActivities } from './index.js';

export interface BackendStatus {
  name: string;
  ok: boolean;
  error?: string;
}

export function createLiteratureRunActivities({ store, literature }: { store: ArtifactStore; literature: LiteratureActivities }) {
  return {
    async searchLiteratureForRun(input: { runId: string; queries: string[]; perQuery: number }): Promise<{ candidates: ArtifactRef; count: number; backends: BackendStatus[] }> {
      const { records, backends } = await literature.searchLiterature({ queries: input.queries, perQuery: input.perQuery });
      const candidates = await store.put(input.runId, 'literature/candidates.json', `${JSON.stringify(records, null, 2)}\n`, 'application/json');
      return { candidates, count: records.length, backends: backends.map(({ name, ok, error }) => ({ name, ok, ...(error ? { error } : {}) })) };
    },

    /**
     * Resolves every work `document` cites (ids, and titles from `references`), stores the report,
     * and writes the document again with the check's findings at its end, so a reader of the file
     * sees which citations could not be verified.
     */
    async checkCitationsOf(input: { runId: string; document: ArtifactRef; references?: ArtifactRef; name: string }): Promise<{ checked: number; verified: number; flagged: number; report: ArtifactRef; document: ArtifactRef }> {
      const text = await store.getText(input.document);
      const references = input.references ? parseReferencesJson(await store.getText(input.references)) : [];
      const citations = parseCitations(text, references);
      const resolved = citations.length ? await literature.resolveCitations({ citations }) : EMPTY_CITATION_REPORT;
      const urls = input.references ? recordUrls(await store.getText(input.references)) : [];
      const report = withUnlistedLinks(resolved, text, urls);
      const ref = await store.put(input.runId, `citations/${input.name}.json`, `${JSON.stringify(report, null, 2)}\n`, 'application/json');
      const checkedName = input.document.path.split('/').slice(2).join('/');
      const document = await store.put(input.runId, checkedName, `${text.trimEnd()}\n\n${citationSection(report)}`, input.document.mediaType);
      return { checked: report.checked, verified: report.verified, flagged: report.flagged.length, report: ref, document };
    },
  };
}

export type LiteratureRunActivities = ReturnType<typeof createLiteratureRunActivities>;

/** Links to scholarly sites: a cited work, whether or not the text gives it a well-formed id. */
const SCHOLARLY_LINK =
  /https?:\/\/(?:www\.)?(?:arxiv\.org|(?:dx\.)?doi\.(?:org|com)|(?:api\.)?semanticscholar\.org|openalex\.org|sciencedirect\.com|link\.springer\.com|ieeexplore\.ieee\.org|dl\.acm\.org|openreview\.net|aclanthology\.org|papers\.nips\.cc|proceedings\.[a-z.]+|researchgate\.net|scholar\.google\.[a-z.]+)[^\s)\]>"'`]*/gi;

function recordUrls(referencesJson: string): string[] {
  try {
    return (JSON.parse(referencesJson) as Array<{ url?: string }>).map((r) => r.url ?? '').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Adds to the report every link to a scholarly site that is neither a retrieved reference nor a
 * citation the id check already judged: a model can cite with a malformed id or a bare link.
 */
export function withUnlistedLinks(report: CitationReport, text: string, referenceUrls: string[]): CitationReport {
  const known = [...report.verifiedIds, ...report.flagged.map((f) => f.id ?? '')].filter(Boolean).map((id) => id.replace(/^(arXiv|DOI|S2|OpenAlex):/i, '').toLowerCase());
  const listed = new Set(referenceUrls.map((u) => u.toLowerCase()));
  const extra: CitationReport['flagged'] = [];
  for (const url of new Set(text.match(SCHOLARLY_LINK) ?? [])) {
    const lower = url.toLowerCase().replace(/[.,;:]+$/, '');
    if (listed.has(lower) || known.some((id) => id && lower.includes(id))) continue;
    extra.push({ id: lower, reason: 'not_found', detail: 'a link to a work the literature search did not retrieve' });
  }
  if (!extra.length) return report;
  return { ...report, checked: report.checked + extra.length, flagged: [...report.flagged, ...extra] };
}

/** The citation check's findings, as a closing section of the checked document. */
export function citationSection(report: CitationReport): string {
  const lines = ['## Citation check', '', `> Checked by Durable Lab against arXiv / Semantic Scholar / OpenAlex: ${formatCitationSummary(report)}.`];
  for (const f of report.flagged) lines.push(`- **flagged** ${f.id ?? f.title ?? '(no id)'}: ${f.reason.replace(/_/g, ' ')}${f.detail ? ` (${f.detail})` : ''}`);
  return `${lines.join('\n')}\n`;
}

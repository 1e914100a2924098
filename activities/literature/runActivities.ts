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
      const report = citations.length ? await literature.resolveCitations({ citations }) : EMPTY_CITATION_REPORT;
      const ref = await store.put(input.runId, `citations/${input.name}.json`, `${JSON.stringify(report, null, 2)}\n`, 'application/json');
      const checkedName = input.document.path.split('/').slice(2).join('/');
      const document = await store.put(input.runId, checkedName, `${text.trimEnd()}\n\n${citationSection(report)}`, input.document.mediaType);
      return { checked: report.checked, verified: report.verified, flagged: report.flagged.length, report: ref, document };
    },
  };
}

export type LiteratureRunActivities = ReturnType<typeof createLiteratureRunActivities>;

/** The citation check's findings, as a closing section of the checked document. */
export function citationSection(report: CitationReport): string {
  const lines = ['## Citation check', '', `> Checked by Durable Lab against arXiv / Semantic Scholar / OpenAlex: ${formatCitationSummary(report)}.`];
  for (const f of report.flagged) lines.push(`- **flagged** ${f.id ?? f.title ?? '(no id)'}: ${f.reason.replace(/_/g, ' ')}${f.detail ? ` (${f.detail})` : ''}`);
  return `${lines.join('\n')}\n`;
}

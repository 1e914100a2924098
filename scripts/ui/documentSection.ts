/**
 * The run page's document parts: each stage document rendered with its flagged numbers and
 * citations marked (and what could not be marked listed under it), and the experiment's CSV
 * result files as tables.
 */
import { isValidRunId } from '../../common/runIds.js';
import { citationReason, flaggedCitationsOf } from './citations.js';
import { csvTableHtml } from './csvTable.js';
import { renderDocument } from './document.js';
import { escapeHtml } from './html.js';
import { runFileUrl } from './markdownLinks.js';
import { MAX_CSV_BYTES_ON_PAGE } from './runArtifacts.js';
import type { RunDetails, StageDocument } from './runDetails.js';

/** Rows of each CSV shown on the run page (its own page shows more). */
const CSV_ROWS_ON_PAGE = 50;

export function documentSection(doc: StageDocument, details: RunDetails): string {
  const title = `<h3 id="doc-${escapeHtml(doc.stage)}">${escapeHtml(doc.stage)} <span class="muted">${escapeHtml(doc.path)}</span></h3>`;
  if (doc.text === undefined) return `${title}<p>could not read it: ${escapeHtml(doc.error ?? 'unknown error')}</p>`;
  const { provenance, artifacts, view } = details;
  const marks = provenance.state === 'ok' ? provenance.flagged.filter((f) => f.document === doc.document) : [];
  // `runs/<id>/results/results.md`: relative links start from `results`.
  const name = doc.path.split('/').slice(2).join('/');
  const rendered = renderDocument(doc.text, marks, {
    document: doc.document,
    folder: name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '',
    run: isValidRunId(view.runId) ? { runId: view.runId, names: new Set(artifacts.files.map((f) => f.name)) } : undefined,
    citations: flaggedCitationsOf(artifacts.citations, doc.document),
  });
  const notes = [
    rendered.shownAsText ? `shown as written: ${rendered.shownAsText}` : '',
    rendered.unplaced.length ? `not found where the check saw them (the document changed since): ${rendered.unplaced.map((m) => `${m.text} at line ${m.line}`).join(', ')}` : '',
    rendered.unplacedCitations.length
      ? `flagged citations not found in the text: ${rendered.unplacedCitations.map((c) => `${c.id ?? c.title ?? '?'} (${citationReason(c)})`).join('; ')}`
      : '',
    artifacts.listError ? `figures not shown: the run's files could not be listed (${artifacts.listError})` : '',
  ].filter(Boolean);
  return `<section class="document" data-stage="${escapeHtml(doc.stage)}">${title}${rendered.html}${doc.truncated ? '<p class="muted">(cut at 1 MB; the whole file is in the run folder)</p>' : ''}${notes.map((n) => `<p class="muted document-note">${escapeHtml(n)}</p>`).join('')}</section>`;
}

/** The CSV files under `results/`, each as a table of its first rows with a link to the whole. */
export function resultTablesSection({ artifacts, view }: RunDetails): string {
  if (!artifacts.csv.length) return '';
  const tables = artifacts.csv.map((f) => {
    const link = `<a href="${escapeHtml(runFileUrl(view.runId, f.name))}">${escapeHtml(f.name)}</a>`;
    const body =
      f.text !== undefined
        ? csvTableHtml(f.text, CSV_ROWS_ON_PAGE)
        : `<p class="muted">${escapeHtml(f.error ? `could not read it: ${f.error}` : f.bytes > MAX_CSV_BYTES_ON_PAGE ? `${f.bytes.toLocaleString('en')} bytes: open it to see it` : 'not shown here: open it to see it')}</p>`;
    return `<section class="csv-file" data-file="${escapeHtml(f.name)}"><h4>${link}</h4>${body}</section>`;
  });
  return `<h3>Result files</h3>\n${tables.join('\n')}`;
}

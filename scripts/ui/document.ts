/**
 * A stage document as HTML (rendered markdown: math, tables, code, figures of the run), with the
 * numbers the integrity check flagged and the citations the citation check flagged marked in
 * place. A mark goes where the check recorded it (or, for a citation, where its id or title is
 * written); one that cannot be placed is listed, never guessed at.
 */
import { createHash } from 'node:crypto';
import type { FlaggedCitation } from '../../common/citations.js';
import { citationReason, locateCitations } from './citations.js';
import { escapeHtml } from './html.js';
import { renderMarkdown, type RunFiles } from './markdown.js';
import { insertSentinels, MAX_MARKS, sentinelsToMarks, type SourceMark } from './markdownMarks.js';
import { unsafeHtmlProblems } from './markdownSafety.js';

/** A stated number to mark: where it is (1-based line, 0-based column) and why it was flagged. */
export interface NumberMark {
  line: number;
  column: number;
  text: string;
  reason: string;
}

export interface DocumentOptions {
  /** The document's name as the checks give it (`paper.md`), for the marks' `data-finding`. */
  document?: string;
  /** The document's folder inside the run ('' for the run's top), which relative links start from. */
  folder?: string;
  /** The run whose files figures and relative links point to. */
  run?: RunFiles;
  /** The citation check's flagged citations for this document. */
  citations?: FlaggedCitation[];
}

export interface RenderedDocument {
  html: string;
  /** Marks whose number is not at (or near) the place the check recorded: listed, never guessed at. */
  unplaced: NumberMark[];
  /** Flagged citations whose id and title are written nowhere the page could mark them. */
  unplacedCitations: FlaggedCitation[];
  /** Set when the rendered HTML failed the safety check and the document is shown as plain text instead. */
  shownAsText?: string;
}

/** Rendered documents kept, by what they were rendered from: an open run's page reloads every 10 s. */
const CACHE_ENTRIES = 64;
const cache = new Map<string, RenderedDocument>();

/** The document rendered, from the cache when the same text, marks and run files were rendered before. */
export function renderDocument(text: string, marks: NumberMark[] = [], options: DocumentOptions = {}): RenderedDocument {
  const key = createHash('sha256')
    .update(JSON.stringify([text, marks, { ...options, run: options.run && { runId: options.run.runId, names: [...options.run.names].sort() } }]))
    .digest('hex');
  const cached = cache.get(key);
  if (cached) {
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const rendered = renderUncached(text, marks, options);
  cache.set(key, rendered);
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  return rendered;
}

function renderUncached(text: string, marks: NumberMark[], options: DocumentOptions): RenderedDocument {
  const unplaced: NumberMark[] = [];
  const numbers = placeNumbers(text, marks, unplaced);
  const citations = locateCitations(text, options.citations ?? [], numbers);
  // Each mark with what it stands for, in document order; ids are positions in `kept`.
  const entries: Array<{ mark: SourceMark; number?: NumberMark; citation?: FlaggedCitation }> = [
    ...numbers.map(({ start, end, mark }) => ({
      mark: { start, end, className: 'flag', title: mark.reason, data: { finding: `${options.document ?? 'document'}:${mark.line}:${mark.column}` } },
      number: mark,
    })),
    ...citations.spans.map(({ start, end, citation }) => ({
      mark: { start, end, className: 'citation-flag', title: citationReason(citation), data: { citation: citation.id ?? citation.title ?? '' } },
      citation,
    })),
  ].sort((a, b) => a.mark.start - b.mark.start);
  const kept = entries.slice(0, MAX_MARKS).map((e) => e.mark);
  let rendered: ReturnType<typeof renderMarkdown>;
  try {
    rendered = renderMarkdown(insertSentinels(text, kept), { folder: options.folder, run: options.run, marks: kept });
  } catch (err) {
    // Markdown nested deeper than the parser's stack (20,000 `>` in a row) is shown as written.
    return asText(text, marks, options, `it could not be rendered (${(err as Error).message.split('\n')[0]})`);
  }
  const { html, placed } = sentinelsToMarks(rendered.html, kept, rendered.wrapped);

  // A mark whose sentinels did not come through (inside a link definition, split by formatting) is not placed.
  const placedCitations = new Set(entries.filter((e, id) => e.citation && placed.has(id)).map((e) => e.citation!));
  entries.forEach((e, id) => {
    if (e.number && !placed.has(id)) unplaced.push(e.number);
  });
  const flaggedCitations = options.citations ?? [];
  const unplacedCitations = flaggedCitations.filter((c) => !placedCitations.has(c));

  const problems = unsafeHtmlProblems(html);
  if (problems.length) return asText(text, marks, options, `its rendering failed the safety check (${problems.join('; ')})`);
  return { html: `<div class="doc">${html}</div>`, unplaced: sortByLine(unplaced), unplacedCitations };
}

/** The document as written, escaped, when it cannot be shown rendered; its marks are then all listed. */
function asText(text: string, marks: NumberMark[], options: DocumentOptions, why: string): RenderedDocument {
  return { html: `<pre class="doc">${escapeHtml(text)}</pre>`, unplaced: sortByLine(marks), unplacedCitations: [...(options.citations ?? [])], shownAsText: why };
}

interface NumberSpan {
  start: number;
  end: number;
  mark: NumberMark;
}

/**
 * Where each number sits in the text: at the recorded column of its line, else its only occurrence
 * in that line. Overlapping, unfound and past-the-end marks go to `unplaced`. Sorted by position.
 */
function placeNumbers(text: string, marks: NumberMark[], unplaced: NumberMark[]): NumberSpan[] {
  const lines = text.split('\n');
  const lineStart: number[] = [];
  let offset = 0;
  for (const line of lines) {
    lineStart.push(offset);
    offset += line.length + 1;
  }
  const spans: NumberSpan[] = [];
  for (const mark of marks) {
    const line = lines[mark.line - 1];
    if (line === undefined || mark.line < 1 || !mark.text) {
      unplaced.push(mark);
      continue;
    }
    let column = line.startsWith(mark.text, mark.column) ? mark.column : -1;
    if (column < 0) {
      const first = line.indexOf(mark.text);
      if (first >= 0 && line.indexOf(mark.text, first + 1) < 0) column = first;
    }
    const start = lineStart[mark.line - 1] + column;
    const end = start + mark.text.length;
    if (column < 0 || spans.some((s) => start < s.end && s.start < end)) {
      unplaced.push(mark);
      continue;
    }
    spans.push({ start, end, mark });
  }
  return spans.sort((a, b) => a.start - b.start);
}

function sortByLine(marks: NumberMark[]): NumberMark[] {
  return [...marks].sort((a, b) => a.line - b.line || a.column - b.column);
}

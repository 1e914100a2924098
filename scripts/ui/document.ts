/**
 * An artifact's text as HTML, with the numbers the integrity check flagged marked in place.
 * The project has no markdown renderer among its dependencies, so markdown is shown as it was
 * written (escaped, in a <pre>); headings, tables and math read well enough that way.
 */
import { escapeHtml } from './html.js';

/** A stated number to mark: where it is (1-based line, 0-based column) and why it was flagged. */
export interface NumberMark {
  line: number;
  column: number;
  text: string;
  reason: string;
}

export interface RenderedDocument {
  html: string;
  /** Marks whose number is not at (or near) the place the check recorded: listed, never guessed at. */
  unplaced: NumberMark[];
}

export function renderDocument(text: string, marks: NumberMark[] = []): RenderedDocument {
  const lines = text.split('\n');
  const byLine = new Map<number, NumberMark[]>();
  for (const m of marks) byLine.set(m.line, [...(byLine.get(m.line) ?? []), m]);
  const unplaced: NumberMark[] = [];
  const html = lines
    .map((line, i) => {
      const wanted = byLine.get(i + 1);
      if (!wanted) return escapeHtml(line);
      const spans = placeMarks(line, wanted, unplaced);
      let out = '';
      let at = 0;
      for (const s of spans) {
        out += `${escapeHtml(line.slice(at, s.start))}<mark title="${escapeHtml(s.mark.reason)}">${escapeHtml(line.slice(s.start, s.end))}</mark>`;
        at = s.end;
      }
      return out + escapeHtml(line.slice(at));
    })
    .join('\n');
  // Findings on lines past the end (the document changed since it was checked) cannot be placed either.
  for (const [line, ms] of byLine) if (line < 1 || line > lines.length) unplaced.push(...ms);
  return { html: `<pre class="doc">${html}</pre>`, unplaced };
}

/**
 * Where each mark's number sits in its line: at the recorded column, else its only occurrence in
 * the line. Overlapping or unfound marks go to `unplaced`. Sorted by position.
 */
function placeMarks(line: string, marks: NumberMark[], unplaced: NumberMark[]): Array<{ start: number; end: number; mark: NumberMark }> {
  const spans: Array<{ start: number; end: number; mark: NumberMark }> = [];
  for (const mark of marks) {
    let start = mark.text && line.startsWith(mark.text, mark.column) ? mark.column : -1;
    if (start < 0 && mark.text) {
      const first = line.indexOf(mark.text);
      if (first >= 0 && line.indexOf(mark.text, first + 1) < 0) start = first;
    }
    const end = start + mark.text.length;
    if (start < 0 || spans.some((s) => start < s.end && s.start < end)) {
      unplaced.push(mark);
      continue;
    }
    spans.push({ start, end, mark });
  }
  return spans.sort((a, b) => a.start - b.start);
}

/**
 * A CSV file of the run (the experiment's measured results) as an HTML table, read with
 * csv-parse: the header row, then at most `maxRows` rows and `MAX_COLUMNS` columns, with a note
 * saying how much was left out. Every cell is escaped.
 */
import { parse } from 'csv-parse/sync';
import { escapeHtml } from './html.js';

const MAX_COLUMNS = 60;
const NUMBER = /^[-+−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?$/;

export function csvTableHtml(text: string, maxRows: number): string {
  let records: string[][];
  try {
    records = parse(text, { bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true });
  } catch (err) {
    return `<p class="muted">could not read it as CSV: ${escapeHtml((err as Error).message.split('\n')[0])}</p>`;
  }
  if (!records.length) return '<p class="muted">(empty)</p>';
  const [header, ...rows] = records;
  const width = Math.max(...records.slice(0, maxRows + 1).map((r) => r.length));
  const shownWidth = Math.min(width, MAX_COLUMNS);
  const cells = (row: string[], tag: 'th' | 'td') =>
    Array.from({ length: shownWidth }, (_, i) => {
      const value = row[i] ?? '';
      return `<${tag}${tag === 'td' && NUMBER.test(value.trim()) ? ' class="num"' : ''}>${escapeHtml(value)}</${tag}>`;
    }).join('');
  const shown = rows.slice(0, maxRows);
  const notes = [
    rows.length > shown.length ? `first ${shown.length} of ${rows.length} rows` : '',
    width > shownWidth ? `first ${shownWidth} of ${width} columns` : '',
  ].filter(Boolean);
  return `<div class="table-scroll"><table class="csv">
<thead><tr>${cells(header, 'th')}</tr></thead>
<tbody>
${shown.map((r) => `<tr>${cells(r, 'td')}</tr>`).join('\n')}
</tbody>
</table></div>${notes.length ? `<p class="muted">${escapeHtml(notes.join('; '))} shown</p>` : ''}`;
}

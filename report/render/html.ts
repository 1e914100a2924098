/**
 * report.html: one self-contained page (inline CSS, inline SVG, no scripts, no external URL),
 * so it opens offline and can be mailed or archived as one file.
 */
import type { ReportData } from '../buildReport.js';
import { cellText, reportMethod, visibleColumns, type ReportTable } from '../tables.js';
import type { ChartFile } from './charts.js';
import { summaryLine } from './summary.js';

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #222; }
.table-wrap { max-width: 100%; overflow-x: auto; margin: 0.5rem 0 1.5rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
td { max-width: 36em; overflow-wrap: anywhere; }
.state { padding: 0.5rem 0.8rem; border-left: 4px solid #4c78a8; background: #eef3f8; }
.state-running, .state-stopped { border-color: #e0a100; background: #fdf6e3; }
.state-failed { border-color: #c0392b; background: #fde8e8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; font-style: italic; }
figure { margin: 0.5rem 0; overflow-x: auto; }
tr.differs td { background: #fde8e8; }
`;
/** Only on a page with an embedded judge, so a page of provider judges stays as it was. */
const UNCALIBRATED_STYLE = `.uncalibrated { border-color: #c0392b; background: #fde8e8; }
`;

export function renderHtml(report: ReportData, tables: ReportTable[], charts: ChartFile[]): string {
  const body: string[] = [`<h1>${escapeHtml(report.title)}</h1>`];
  if (report.state) body.push(`<p class="state state-${report.state.state}"><strong>Status:</strong> ${escapeHtml(report.state.note)}</p>`);
  if (report.calibration) body.push(`<p class="state uncalibrated"><strong>Calibration:</strong> ${escapeHtml(report.calibration.note)}</p>`);
  body.push(`<p>${escapeHtml(summaryLine(report))}</p>`, '<h2>Method</h2>', '<ul>');
  body.push(...reportMethod(report).map((m) => `<li>${escapeHtml(m)}</li>`), '</ul>');
  for (const table of tables.filter((t) => !t.detailOnly)) {
    body.push(`<h2>${escapeHtml(table.title)}</h2>`);
    if (table.note) body.push(`<p class="note">${escapeHtml(table.note)}</p>`);
    for (const chart of charts.filter((c) => c.table === table.name)) body.push(`<figure>${chart.svg}<figcaption>${escapeHtml(chart.title)}</figcaption></figure>`);
    body.push(htmlTable(table));
  }
  body.push('<h2>Data files</h2>', '<p>Each table is also a CSV file beside this page, and report.json holds them all; the detail tables are only there.</p>', '<ul>');
  for (const table of tables) body.push(`<li><code>${escapeHtml(table.name)}.csv</code>: ${escapeHtml(table.title)} (${table.rows.length} rows)</li>`);
  body.push('</ul>');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${escapeHtml(report.title)}</title>`,
    `<style>${STYLE}${report.calibration ? UNCALIBRATED_STYLE : ''}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function htmlTable(table: ReportTable): string {
  const shown = visibleColumns(table);
  const statusColumn = table.columns.findIndex((c) => c.key === 'status');
  const head = `<tr>${shown.map((i) => `<th>${escapeHtml(table.columns[i].header)}</th>`).join('')}</tr>`;
  const rows = table.rows.map((row) => {
    const flagged = statusColumn >= 0 && row[statusColumn] === 'differs';
    const cells = shown.map((i) => `<td${typeof row[i] === 'number' ? ' class="num"' : ''}>${escapeHtml(cellText(row[i], table.columns[i]))}</td>`);
    return `<tr${flagged ? ' class="differs"' : ''}>${cells.join('')}</tr>`;
  });
  // Wide tables scroll inside their own box (long cells wrap first) instead of running past the page.
  return `<div class="table-wrap"><table>\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table></div>`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A closed benchmark's leaderboard on its page: the tables `lab report` prints, with the same
 * rounded numbers (report/tables.ts builds them once for every format), and its charts as images
 * served by `/benchmarks/<id>/charts/<file>`: the SVG text (which holds task and model names) is
 * never put into the page itself.
 */
import { summaryLine } from '../../../report/render/summary.js';
import { cellText, visibleColumns, type ReportTable } from '../../../report/tables.js';
import type { ChartFile } from '../../../report/render/charts.js';
import type { BenchReport } from '../benchDetails.js';
import { escapeHtml } from '../html.js';

/** A chart's file name as `lab report` writes it; the chart route takes nothing else. */
export const CHART_FILE = /^[A-Za-z0-9._-]+\.svg$/;

export function chartPath(benchId: string, chart: Pick<ChartFile, 'file'>): string {
  return `/benchmarks/${encodeURIComponent(benchId)}/charts/${encodeURIComponent(chart.file)}`;
}

export function leaderboard(benchId: string, report: BenchReport): string {
  const { data, tables, charts } = report;
  const parts = ['<section class="leaderboard">', '<h3>Leaderboard</h3>'];
  if (data.calibration) parts.push(`<p class="notice error">${escapeHtml(data.calibration.note)}</p>`);
  parts.push(`<p class="report-summary">${escapeHtml(summaryLine(data))}</p>`);
  const placed = new Set<string>();
  for (const table of tables) {
    parts.push(`<h4>${escapeHtml(table.title)}</h4>`);
    if (table.note) parts.push(`<p class="muted">${escapeHtml(table.note)}</p>`);
    for (const chart of charts.filter((c) => c.table === table.name)) {
      parts.push(figure(benchId, chart));
      placed.add(chart.file);
    }
    parts.push(reportTable(table));
  }
  // Charts of tables `lab report` writes to files but does not print (judge agreement).
  const others = charts.filter((c) => !placed.has(c.file));
  if (others.length) parts.push('<h4>More charts</h4>', ...others.map((c) => figure(benchId, c)));
  if (!tables.length && !charts.length) parts.push('<p class="muted">nothing to tabulate: no review or run has finished</p>');
  parts.push(`<p class="muted">Every table as CSV, report.md and report.html: <code>lab report ${escapeHtml(benchId)}</code></p>`, '</section>');
  return parts.join('\n');
}

function figure(benchId: string, chart: ChartFile): string {
  return `<figure class="chart"><img src="${escapeHtml(chartPath(benchId, chart))}" alt="${escapeHtml(chart.title)}"><figcaption class="muted">${escapeHtml(chart.title)}</figcaption></figure>`;
}

function reportTable(table: ReportTable): string {
  const shown = visibleColumns(table);
  const head = shown.map((i) => `<th${table.rows.some((r) => typeof r[i] === 'number') ? ' class="num"' : ''}>${escapeHtml(table.columns[i].header)}</th>`).join('');
  const rows = table.rows.map(
    (row) => `<tr>${shown.map((i) => `<td${typeof row[i] === 'number' ? ' class="num"' : ''} data-key="${escapeHtml(table.columns[i].key)}">${escapeHtml(cellText(row[i], table.columns[i]))}</td>`).join('')}</tr>`,
  );
  return `<div class="table-wrap"><table class="report" data-table="${escapeHtml(table.name)}">
<thead><tr>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table></div>`;
}

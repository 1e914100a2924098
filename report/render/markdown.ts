/** report.md: the tables a reader needs, each with its chart (the SVG files beside it). */
import type { ReportData } from '../buildReport.js';
import { cellText, reportMethod, visibleColumns, type ReportTable } from '../tables.js';
import type { ChartFile } from './charts.js';
import { summaryLine } from './summary.js';

export function renderMarkdown(report: ReportData, tables: ReportTable[], charts: Pick<ChartFile, 'file' | 'title' | 'table'>[]): string {
  const out = [`# ${report.title}`, ''];
  if (report.state) out.push(`**Status:** ${escapeCell(report.state.note)}`, '');
  if (report.calibration) out.push(`> **Calibration:** ${escapeCell(report.calibration.note)}`, '');
  out.push(summaryLine(report), '', '## Method', '', ...reportMethod(report).map((m) => `- ${m}`), '');
  for (const table of tables.filter((t) => !t.detailOnly)) {
    out.push(`## ${table.title}`, '');
    if (table.note) out.push(`_${escapeCell(table.note)}_`, '');
    for (const chart of charts.filter((c) => c.table === table.name)) out.push(`![${escapeCell(chart.title)}](${chart.file})`, '');
    out.push(markdownTable(table), '');
  }
  out.push('## Data files', '', 'Each table is also a CSV file beside this report, and report.json holds them all; the detail tables are only there.', '');
  for (const table of tables) out.push(`- \`${table.name}.csv\`: ${escapeCell(table.title)} (${table.rows.length} rows)`);
  return `${out.join('\n')}\n`;
}

export function markdownTable(table: ReportTable): string {
  const shown = visibleColumns(table);
  const numeric = shown.map((i) => table.columns[i].digits !== undefined || table.rows.every((r) => typeof r[i] === 'number' || r[i] === null));
  const lines = [
    `| ${shown.map((i) => escapeCell(table.columns[i].header)).join(' | ')} |`,
    `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
    ...table.rows.map((row) => `| ${shown.map((i) => escapeCell(cellText(row[i], table.columns[i]))).join(' | ')} |`),
  ];
  return lines.join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Writes a report's files: report.md, report.html, report.json, one CSV per table, one SVG per chart. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildReport, type ReportData } from './buildReport.js';
import { renderCharts } from './render/charts.js';
import { renderCsv } from './render/csv.js';
import { renderHtml } from './render/html.js';
import { renderJson } from './render/json.js';
import { renderMarkdown } from './render/markdown.js';
import { reportTables, type ReportTable } from './tables.js';
import type { ReportInput } from './types.js';

export interface WrittenReport {
  /** Paths of the files written, report.md first. */
  files: string[];
  report: ReportData;
  tables: ReportTable[];
}

export async function writeReport(input: ReportInput, outDir: string): Promise<WrittenReport> {
  const report = buildReport(input);
  const tables = reportTables(report);
  const charts = await renderCharts(report);
  const contents: [string, string][] = [
    ['report.md', renderMarkdown(report, tables, charts)],
    ['report.html', renderHtml(report, tables, charts)],
    ['report.json', renderJson(report, tables)],
    ...tables.map((t): [string, string] => [`${t.name}.csv`, renderCsv(t)]),
    ...charts.map((c): [string, string] => [c.file, c.svg]),
  ];
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  for (const [name, text] of contents) {
    const file = path.join(outDir, name);
    await writeFile(file, text);
    files.push(file);
  }
  return { files, report, tables };
}

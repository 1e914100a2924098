/**
 * What the console's benchmark page shows: where the benchmark stands (`lab bench status`'s view)
 * and, once it has closed, the report `lab report` builds from the same records (tables and
 * charts). A closed execution's report no longer changes, so the last few are kept: the page and
 * its chart images (each a request of its own) build it once.
 */
import type { Client } from '@temporalio/client';
import { printedTables } from '../commands/report.js';
import { loadBenchReport, viewBench, type BenchView } from '../lib/bench.js';
import { buildReport, type ReportData } from '../../report/buildReport.js';
import { renderCharts, type ChartFile } from '../../report/render/charts.js';
import { reportTables, type ReportTable } from '../../report/tables.js';

export interface BenchReport {
  data: ReportData;
  /** The tables `lab report` prints. */
  tables: ReportTable[];
  /** Every chart `lab report` writes (SVG text, served only as an image). */
  charts: ChartFile[];
}

export interface BenchDetails {
  view: BenchView;
  /** Once the benchmark has closed; `reportError` when it could not be built. */
  report?: BenchReport;
  reportError?: string;
}

const KEPT_REPORTS = 8;
const reports = new Map<string, Promise<BenchReport>>();

export async function loadBenchDetails(client: Client, benchId: string): Promise<BenchDetails> {
  const view = await viewBench(client, benchId);
  if (view.execution === 'RUNNING') return { view };
  try {
    return { view, report: await closedReport(client, benchId, view) };
  } catch (err) {
    return { view, reportError: (err as Error).message.split('\n')[0] };
  }
}

/** The report of the benchmark's latest, closed execution (a retry is a new execution, with its own close time). */
function closedReport(client: Client, benchId: string, view: BenchView): Promise<BenchReport> {
  const key = `${benchId}\n${view.closeTime?.toISOString() ?? view.startTime.toISOString()}`;
  let report = reports.get(key);
  if (!report) {
    report = buildBenchReport(client, benchId);
    reports.set(key, report);
    report.catch(() => reports.delete(key));
    for (const old of reports.keys()) if (reports.size > KEPT_REPORTS) reports.delete(old);
  }
  return report;
}

async function buildBenchReport(client: Client, benchId: string): Promise<BenchReport> {
  const { exitCode: _exitCode, ...input } = await loadBenchReport(client, benchId);
  const data = buildReport(input);
  const all = reportTables(data);
  return { data, tables: printedTables(all), charts: await renderCharts(data) };
}

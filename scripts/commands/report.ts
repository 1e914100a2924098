/**
 * `lab report`: the leaderboard of a benchmark of ours, or of a folder of MLR-Bench's published
 * reviews set beside the paper's numbers. Writes report.md, report.html, report.json, CSVs and
 * SVG charts, and prints the main tables.
 */
import path from 'node:path';
import Table from 'cli-table3';
import { z } from 'zod';
import { mlrBenchReportInput, ReviewFolderError } from '../../report/mlrBenchReviews.js';
import { cellText, visibleColumns, type ReportTable } from '../../report/tables.js';
import type { ReportInput } from '../../report/types.js';
import { writeReport } from '../../report/writeReport.js';
import { summaryLine } from '../../report/render/summary.js';
import { reportsDir } from '../../activities/config.js';
import { loadBenchReport } from '../lib/bench.js';
import { CliError } from '../lib/client.js';
import { EXIT } from '../lib/exitCodes.js';
import { booleanFlag, defineCommand, flag } from '../lib/command.js';
import { nonEmptyText } from '../lib/options.js';
import { print, printJson, withClient } from '../lib/output.js';

const USAGE =
  'lab report <benchId> [--out DIR] [--json]  |  lab report --reviews FOLDER [--out DIR] [--json]\n\n' +
  '  <benchId>         a benchmark of ours: judge scores per agent × review kind × dimension (mean of judge means ± SE),\n' +
  '                    judge agreement, cost per task, failures, and competition runs\' objective scores beside the judges\n' +
  '  --reviews FOLDER  MLR-Bench\'s published review files (its reviews/ folder or the folder holding it), with the\n' +
  '                    paper\'s published numbers beside the computed ones\n' +
  '  --out DIR         default <LAB_HOME>/reports/<benchId or folder name>: report.md, report.html, report.json, CSVs, SVG charts\n' +
  '  --json            the report\'s data on stdout\n' +
  'A running benchmark gives a partial report (what has finished; exit 0, with a warning); one whose every item\n' +
  'failed, or that failed or was stopped, exits 3 (4: the budget ran out before any item finished).';

export const reportCommand = defineCommand({
  summary: 'tables and charts of judge scores: a benchmark, or MLR-Bench review files beside the published numbers',
  usage: USAGE,
  options: { reviews: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
  positionals: ['benchId'],
  schema: z.object({
    benchId: flag(nonEmptyText('the benchmark id')),
    reviews: flag(nonEmptyText('--reviews')),
    out: flag(nonEmptyText('--out')),
    json: booleanFlag,
  }),
  async run({ benchId, reviews, out, json }) {
    if (benchId && reviews) throw new CliError('give a benchmark id or --reviews FOLDER, not both (see lab report --help)', 2);
    if (!benchId && !reviews) throw new CliError('give a benchmark id or --reviews FOLDER (see lab report --help)', 2);
    const { exitCode = EXIT.ok, ...input } = reviews ? await readReviewFolder(reviews) : await withClient(({ client }) => loadBenchReport(client, benchId!));
    const outDir = path.resolve(out ?? path.join(reportsDir(), fileSafe(benchId ?? path.basename(path.resolve(reviews!)))));
    const { files, report, tables } = await writeReport(input, outDir);
    // On stderr too, so a partial or failed benchmark is not mistaken for a finished one in a pipe or with --json.
    if (input.state && input.state.state !== 'completed') process.stderr.write(`lab report: ${benchId}: ${input.state.note}\n`);
    // Scores by an embedded judge are not calibrated: said beside the tables, in both modes.
    const calibration = report.calibration?.note;
    const shown = printedTables(tables);
    if (json) {
      printJson({
        title: report.title,
        ...(report.state ? { state: report.state } : {}),
        ...(calibration ? { calibrated: false, calibration } : {}),
        summary: report.summary,
        files,
        tables: Object.fromEntries(shown.map((t) => [t.name, t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c.key, r[i]])))])),
      });
      return exitCode;
    }
    print(report.title);
    if (report.state) print(report.state.note);
    if (calibration) print(calibration);
    print(summaryLine(report));
    for (const table of shown) print(`\n${table.title}${table.name.startsWith('scores_') ? ' (means; ± standard errors in report.md)' : ''}\n${terminalTable(table)}`);
    print(`\nwrote ${files.length} files to ${outDir}:`);
    for (const f of files) print(`  ${path.relative(outDir, f)}`);
    return exitCode;
  },
});

/** The tables `lab report` prints (and the console shows): the leaderboards, cost and failure counts. */
export function printedTables(tables: ReportTable[]): ReportTable[] {
  return tables.filter((t) => !t.detailOnly && (t.name.startsWith('scores_') || ['published_comparison', 'objective_agents', 'objective_tasks', 'judges_vs_metric', 'cost', 'failure_counts'].includes(t.name)));
}

async function readReviewFolder(folder: string): Promise<ReportInput & { exitCode?: number }> {
  let input: ReportInput;
  try {
    input = await mlrBenchReportInput(folder);
  } catch (err) {
    if (err instanceof ReviewFolderError) throw new CliError(err.message, 2);
    throw err;
  }
  if (!input.records.length) {
    const skipped = input.unreadable?.length ? ` (${input.unreadable.length} files could not be used, e.g. ${input.unreadable[0].source}: ${input.unreadable[0].reason})` : '';
    throw new CliError(`no reviews found in ${folder}${skipped}`, 2);
  }
  return input;
}

/** Borderless, like `lab list`; scores tables show means only to stay within a terminal's width. */
function terminalTable(table: ReportTable): string {
  const columns = visibleColumns(table).filter((i) => !table.columns[i].key.endsWith('_se') && table.columns[i].key !== 'tolerance');
  const out = new Table({
    head: columns.map((i) => table.columns[i].header),
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colAligns: columns.map((i) => (table.rows.some((r) => typeof r[i] === 'number') ? 'right' : 'left')),
  });
  for (const row of table.rows) out.push(columns.map((i) => cellText(row[i], table.columns[i])));
  return out.toString().split('\n').map((line) => line.trimEnd()).join('\n');
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[.]+/, '_') || 'report';
}

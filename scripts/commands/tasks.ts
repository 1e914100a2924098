/**
 * `lab tasks [list]`: the tasks `lab run` finds by name (venue, year, title, and which folder each
 * name resolves to). `lab tasks import <folder>`: validates and copies tasks into `<LAB_HOME>/tasks/`.
 */
import path from 'node:path';
import Table from 'cli-table3';
import { z } from 'zod';
import { parseTaskName, parseVenue, parseYear } from '../../common/taskNames.js';
import { importTasks, type ImportReport } from '../../activities/taskImport.js';
import { describeTaskSet } from '../../activities/taskSets.js';
import { importedTasksDir } from '../../activities/config.js';
import { listTasks, readTaskFolder, TaskError, type TaskEntry } from '../../activities/tasks.js';
import { CliError } from '../lib/client.js';
import { booleanFlag, defineCommand, flag } from '../lib/command.js';
import { EXIT } from '../lib/exitCodes.js';
import { print, printJson } from '../lib/output.js';

const USAGE = 'lab tasks [list] [--venue V] [--year YYYY] [--json]\n       lab tasks import <folder|file.md> [--dest DIR] [--force] [--json]';

/** The list is what runs by name; any folder with a task.md runs by path. */
export const ANY_FOLDER = 'these run by name; any folder with a task.md can be run by its path too: lab run ./my-task';

export interface TaskRow extends TaskEntry {
  venue?: string;
  year?: number;
  title: string;
}

type Args =
  | { action: 'list'; venue?: string; year?: number; json: boolean }
  | { action: 'import'; source: string; dest: string; force: boolean; json: boolean };

export const tasksCommand = defineCommand({
  summary: 'list the tasks `lab run` finds by name (filtered by venue or year), or import a task set',
  usage: USAGE,
  options: { venue: { type: 'string' }, year: { type: 'string' }, dest: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: ['action', 'source'],
  schema: z
    .object({
      action: z.string().optional(),
      source: z.string().optional(),
      venue: flag(parseVenue('--venue')),
      year: flag(parseYear('--year')),
      dest: z.string().optional(),
      force: booleanFlag,
      json: booleanFlag,
    })
    .transform((v, ctx): Args => {
      const fail = (message: string) => (ctx.addIssue({ code: 'custom', message }), z.NEVER);
      const action = v.action ?? 'list';
      if (action === 'list') {
        if (v.source !== undefined) return fail(`unexpected argument "${v.source}"`);
        if (v.dest !== undefined || v.force) return fail('--dest and --force belong to lab tasks import');
        return { action, venue: v.venue, year: v.year, json: v.json };
      }
      if (action === 'import') {
        if (!v.source?.trim()) return fail('missing folder: lab tasks import <folder>');
        if (v.venue !== undefined || v.year !== undefined) return fail('--venue and --year belong to lab tasks list');
        if (v.dest !== undefined && !v.dest.trim()) return fail('--dest needs a folder');
        return { action, source: v.source, dest: v.dest ?? importedTasksDir(), force: v.force, json: v.json };
      }
      return fail(`unknown tasks subcommand "${action}" (list, import)`);
    }),
  async run(args) {
    return args.action === 'import' ? runImport(args) : runList(args);
  },
});

async function runList({ venue, year, json }: Extract<Args, { action: 'list' }>): Promise<number> {
  const all = await listTasks();
  const tasks = all.filter((t) => {
    const parts = parseTaskName(t.name);
    return (venue === undefined || parts.venue === venue) && (year === undefined || parts.year === year);
  });
  const rows: TaskRow[] = await Promise.all(
    tasks.map(async (t) => {
      const { venue, year } = parseTaskName(t.name);
      return { ...t, venue, year, title: await titleOf(t) };
    }),
  );
  if (json) {
    printJson(rows);
    return EXIT.ok;
  }
  if (!all.length) {
    print('no tasks found (see the README: Tasks; `lab tasks import <folder>` adds some)');
    print(ANY_FOLDER);
    return EXIT.ok;
  }
  const filters = [venue && `--venue ${venue}`, year && `--year ${year}`].filter(Boolean).join(' ');
  if (!rows.length) {
    print(`no tasks match ${filters} (of ${describeTaskSet(all).text})`);
    return EXIT.ok;
  }
  print(formatTaskTable(rows, process.stdout.columns));
  const counts = describeTaskSet(rows);
  print(filters ? `${rows.length} of ${all.length} tasks match ${filters}${counts.breakdown ? `; ${counts.breakdown}` : ''}` : counts.text);
  print(ANY_FOLDER);
  return EXIT.ok;
}

/** The title, or why the task would be refused, so a broken task shows before `lab run` trips on it. */
async function titleOf(t: TaskEntry): Promise<string> {
  return readTaskFolder(t.folder).then(
    (task) => task.title,
    (err) => (err instanceof TaskError ? `(invalid: ${err.message})` : Promise.reject(err)),
  );
}

export function formatTaskTable(rows: TaskRow[], width = 160): string {
  const nameWidth = Math.max(4, ...rows.map((r) => r.name.length));
  const titleWidth = Math.max(30, width - nameWidth - 20);
  const table = new Table({
    head: ['task', 'venue', 'year', 'title'],
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const r of rows) table.push([r.name, r.venue ?? '', r.year === undefined ? '' : String(r.year), clip(r.title, titleWidth)]);
  // Borderless and unwrapped, the table is one line per row (after the header), so notes can go under their row.
  const [head, ...lines] = table.toString().split('\n');
  return [
    head.trimEnd(),
    ...lines.flatMap((line, i) => [
      line.trimEnd(),
      // Two folders with one name: say which one runs, so nobody runs the wrong task by name.
      ...rows[i].shadowed.map((other) => `  (runs ${rows[i].folder}; not used by name: ${other}, run that by path)`),
    ]),
  ].join('\n');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

async function runImport({ source, dest, force, json }: Extract<Args, { action: 'import' }>): Promise<number> {
  let report: ImportReport;
  try {
    report = await importTasks(source, dest, { force });
  } catch (err) {
    if (err instanceof TaskError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
  if (json) printJson(report);
  else print(formatImportReport(report));
  const found = report.imported.length + report.unchanged.length + report.duplicates.length;
  if (found) return EXIT.ok;
  // Everything was refused: say so on stderr, in one line, as other usage errors do.
  throw new CliError(`nothing importable in ${source}: all ${report.refused.length} task(s) refused`, EXIT.usage);
}

export function formatImportReport(r: ImportReport): string {
  const replaced = r.replaced.length ? ` (${r.replaced.length} replaced)` : '';
  const lines = [
    `imported ${r.imported.length}${replaced}, unchanged ${r.unchanged.length}, duplicates ${r.duplicates.length}, refused ${r.refused.length} into ${r.dest}`,
  ];
  if (r.counts.total) lines.push(`  ${r.counts.text}`);
  for (const d of r.duplicates) lines.push(`  duplicate ${d.file}: same content as ${d.sameAs} (imported once)`);
  for (const x of r.refused) lines.push(`  refused ${x.name}: ${x.reason}`);
  if (r.skipped.length) lines.push(`  skipped ${r.skipped.map((s) => path.basename(s.file)).join(', ')}: ${r.skipped[0].reason}`);
  return lines.join('\n');
}

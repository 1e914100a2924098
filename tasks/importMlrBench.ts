/**
 * Imports an MLR-Bench-style task set (one folder per task, each with task.md) into
 * tasks/imported/, validating every task with the same loader `lab run` uses.
 *
 *   tsx tasks/importMlrBench.ts <source-folder> [--dest tasks/imported] [--json]
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXAMPLE_TASKS_DIR, IMPORTED_TASKS_DIR } from '../activities/config.js';
import { readTaskFolder, TaskError } from '../activities/tasks.js';

export interface ImportReport {
  imported: string[];
  unchanged: string[];
  rejected: Array<{ name: string; reason: string }>;
}

export async function importTasks(source: string, dest: string): Promise<ImportReport> {
  const entries = await fs.readdir(source, { withFileTypes: true }).catch(() => {
    throw new TaskError(`task source folder not found: ${source}`);
  });
  const folders = entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name));
  if (!folders.length) {
    throw new TaskError(`no task folders in ${source}: expected one folder per task, each holding a task.md`);
  }
  const examples = new Set(await fs.readdir(EXAMPLE_TASKS_DIR).catch(() => []));
  const report: ImportReport = { imported: [], unchanged: [], rejected: [] };
  for (const entry of folders) {
    try {
      const task = await readTaskFolder(path.join(source, entry.name));
      if (examples.has(task.name) && path.resolve(dest) !== EXAMPLE_TASKS_DIR) {
        // `lab run <name>` resolves example tasks first, so an imported twin could never be run by name.
        throw new TaskError(`a task named "${task.name}" already ships in tasks/examples, which \`lab run ${task.name}\` would use; rename the folder`);
      }
      const target = path.join(dest, task.name, 'task.md');
      const existing = await fs.readFile(target, 'utf8').catch(() => undefined);
      if (existing === task.content) {
        report.unchanged.push(task.name);
        continue;
      }
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.writeFile(target, task.content);
      report.imported.push(task.name);
    } catch (err) {
      if (!(err instanceof TaskError)) throw err;
      report.rejected.push({ name: entry.name, reason: err.message });
    }
  }
  return report;
}

async function cli(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { dest: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (!positionals[0]) {
    console.error('usage: tsx tasks/importMlrBench.ts <source-folder> [--dest tasks/imported] [--json]');
    return 2;
  }
  const dest = values.dest ?? IMPORTED_TASKS_DIR;
  let report: ImportReport;
  try {
    report = await importTasks(positionals[0], dest);
  } catch (err) {
    if (!(err instanceof TaskError)) throw err;
    console.error(`import: ${err.message}`);
    return 1;
  }
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(`imported ${report.imported.length}, unchanged ${report.unchanged.length}, rejected ${report.rejected.length} into ${dest}`);
    for (const r of report.rejected) console.log(`  rejected ${r.name}: ${r.reason}`);
  }
  // Nothing usable came in: not a success, even if some folders were looked at.
  return report.imported.length || report.unchanged.length ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  cli().then((code) => process.exit(code), (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

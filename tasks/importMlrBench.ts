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
  const report: ImportReport = { imported: [], unchanged: [], rejected: [] };
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    try {
      const task = await readTaskFolder(path.join(source, entry.name));
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
  const dest = values.dest ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'imported');
  const report = await importTasks(positionals[0], dest);
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(`imported ${report.imported.length}, unchanged ${report.unchanged.length}, rejected ${report.rejected.length} into ${dest}`);
    for (const r of report.rejected) console.log(`  rejected ${r.name}: ${r.reason}`);
  }
  return report.rejected.length && !report.imported.length && !report.unchanged.length ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  cli().then((code) => process.exit(code), (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

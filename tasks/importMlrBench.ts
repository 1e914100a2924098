/**
 * Kept for scripts that call it: the importer is `lab tasks import` (activities/taskImport.ts).
 *
 *   tsx tasks/importMlrBench.ts <source-folder> [--dest tasks/imported] [--force] [--json]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export { importTasks, type ImportReport } from '../activities/taskImport.js';

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { main } = await import('../scripts/lab.js');
  process.exitCode = await main(['tasks', 'import', ...process.argv.slice(2)]);
}

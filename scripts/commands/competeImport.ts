/** `lab compete import`: an MLRC-Bench task folder (its data prepared) as a competition here. */
import { existsSync, statSync } from 'node:fs';
import { auditTask } from '../../activities/competition/audit/index.js';
import { importMlrcTask, MlrcImportError, readCompetitionFolder } from '../../activities/competition/index.js';
import { IMPORTED_COMPETITIONS_DIR } from '../../activities/competition/paths.js';
import { CliError } from '../lib/client.js';
import { EXIT } from '../lib/exitCodes.js';
import { print, printJson } from '../lib/output.js';
import { formatAudit } from './competeScore.js';

export interface CompeteImportArgs {
  folder: string;
  metric: string;
  direction: 'higher' | 'lower';
  baseline?: number;
  humanTop?: number;
  name?: string;
  dest?: string;
  force: boolean;
  json: boolean;
}

export async function runCompeteImport(a: CompeteImportArgs): Promise<number> {
  if (!existsSync(a.folder) || !statSync(a.folder).isDirectory()) throw new CliError(`folder not found: ${a.folder}`, 2);
  try {
    const report = await importMlrcTask(a.folder, a.dest ?? IMPORTED_COMPETITIONS_DIR, {
      metric: { name: a.metric, direction: a.direction },
      ...(a.name ? { name: a.name } : {}),
      ...(a.baseline !== undefined ? { baseline: a.baseline } : {}),
      ...(a.humanTop !== undefined ? { humanTop: a.humanTop } : {}),
      force: a.force,
    });
    // The audit where it can apply: an imported task runs MLRC-Bench's own harness, which the cheats cannot run on (auditTask says why).
    const audit = await auditTask(await readCompetitionFolder(report.folder, { requireReference: false }), {});
    if (a.json) printJson({ ...report, audit });
    else {
      print(`imported MLRC-Bench task ${report.name} into ${report.folder} (${report.files.length} files)`);
      for (const note of report.notes) print(`  note: ${note}`);
      print(`audit: ${audit.applies ? formatAudit(audit) : audit.note}`);
      print(`try it: lab compete ${report.name}`);
    }
    return audit.passed ? EXIT.ok : EXIT.runFailed;
  } catch (err) {
    if (err instanceof MlrcImportError) throw new CliError(`cannot import ${err.task}:\n${err.reasons.map((r) => `  - ${r}`).join('\n')}`, 2);
    throw err;
  }
}
